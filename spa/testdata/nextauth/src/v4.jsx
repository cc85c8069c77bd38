// next-auth 4.24.x: the default flavour.
import * as client from 'next-auth/react';
import { mount } from './app.jsx';

mount(client, 'v4');
