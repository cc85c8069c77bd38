// next-auth 5.0.0-beta.x (installed as the npm alias next-auth-v5).
import * as client from 'next-auth-v5/react';
import { mount } from './app.jsx';

mount(client, 'v5');
