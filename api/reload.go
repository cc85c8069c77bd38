package api

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/authbff/authbff/bff"
	"github.com/authbff/authbff/internal/bffhook"
	"github.com/authbff/authbff/internal/config"
)

// reloadState is what ReloadSecrets compares a new reading with: the
// secrets the BFF runs with now.
type reloadState struct {
	mu        sync.Mutex
	started   bool
	secrets   []string
	providers map[string]bff.ProviderSecrets
	apple     map[string]string // ApplePrivateKey by provider id (not rotated)
	store     string
}

func (st *reloadState) init(o bff.Options) {
	if st.started {
		return
	}
	st.started = true
	st.secrets = slices.Clone(o.Secrets)
	st.providers, st.apple = providerSecrets(o)
	st.store = o.StoreSpec
}

// providerSecrets are o's providers' credentials by provider id.
func providerSecrets(o bff.Options) (creds map[string]bff.ProviderSecrets, apple map[string]string) {
	creds, apple = map[string]bff.ProviderSecrets{}, map[string]string{}
	for _, p := range o.Providers {
		id := providerID(p)
		creds[id] = bff.ProviderSecrets{ClientSecret: p.ClientSecret, ClientKey: p.ClientKey, ClientKeyID: p.ClientKeyID}
		apple[id] = p.ApplePrivateKey
	}
	return creds, apple
}

func providerID(p bff.Provider) string {
	if p.ID == "" && p.Cognito {
		return "cognito"
	}
	return p.ID
}

// ReloadSecrets re-reads the configuration (every <NAME>_FILE: a secret
// rotated in its file, e.g. a Kubernetes secret volume updated; a plain
// variable cannot change in a running process and is kept) and rotates the
// secrets that changed with bff.BFF.RotateSecrets: NEXTAUTH_SECRET (the old
// one stays accepted as a previous secret), NEXTAUTH_SECRET_PREVIOUS, and
// each provider's client secret or private_key_jwt key. It logs the names
// of the variables rotated (never a value) at INFO; a reading with a
// problem (a missing file, a variable set both ways, a secret too short) or
// a rotation refused changes nothing and is logged at ERROR, naming the
// variable. What changed but needs a restart (SESSION_STORE, providers
// added or removed, Apple's key) is logged at WARN. The binary calls it on
// SIGHUP.
func (m *Server) ReloadSecrets() error {
	st := &m.reload
	st.mu.Lock()
	defer st.mu.Unlock()
	st.init(m.opts)
	cfg, err := config.Load(m.src)
	if err == nil {
		var v any
		if v, err = bffhook.OptionsFromConfig(cfg); err == nil {
			return m.rotate(st, cfg, v.(bff.Options))
		}
	}
	m.Logger.Error("secret reload: nothing changed: the configuration has problems; fix them and send SIGHUP again", "err", err)
	return err
}

func (m *Server) rotate(st *reloadState, cfg *config.Config, o bff.Options) error {
	var rot bff.Secrets
	var changed, restart []string
	if !slices.Equal(o.Secrets, st.secrets) {
		rot.Secrets = o.Secrets
		if first(o.Secrets) != first(st.secrets) {
			changed = append(changed, m.varName("NEXTAUTH_SECRET", "AUTH_SECRET"))
		}
		if !slices.Equal(rest(o.Secrets), rest(st.secrets)) {
			changed = append(changed, m.fileName("NEXTAUTH_SECRET_PREVIOUS"))
		}
	}
	if len(o.Secrets) == 0 && len(st.secrets) > 0 {
		// The configuration no longer names a secret: nothing to rotate to.
		m.Logger.Error("secret reload: nothing changed: NEXTAUTH_SECRET is no longer set; set it (or NEXTAUTH_SECRET_FILE) and send SIGHUP again")
		return errors.New("api: reload secrets: NEXTAUTH_SECRET is not set")
	}
	creds, apple := providerSecrets(o)
	vars := map[string]config.ProviderVars{}
	for _, p := range cfg.Providers {
		vars[p.ID] = p.Vars()
	}
	for _, id := range slices.Sorted(maps.Keys(creds)) {
		old, ok := st.providers[id]
		switch {
		case !ok:
			restart = append(restart, "provider "+id+" (added)")
			continue
		case apple[id] != st.apple[id]:
			restart = append(restart, m.fileName("AUTH_"+envID(id)+"_PRIVATE_KEY"))
		}
		nw := creds[id]
		if nw == old {
			continue
		}
		if rot.Providers == nil {
			rot.Providers = map[string]bff.ProviderSecrets{}
		}
		rot.Providers[id] = nw
		if nw.ClientSecret != old.ClientSecret {
			changed = append(changed, m.varName(vars[id].Secret, "AUTH_"+envID(id)+"_SECRET"))
		}
		if nw.ClientKey != old.ClientKey || nw.ClientKeyID != old.ClientKeyID {
			changed = append(changed, m.fileName("AUTH_"+envID(id)+"_CLIENT_KEY"))
		}
	}
	for id := range st.providers {
		if _, ok := creds[id]; !ok {
			restart = append(restart, "provider "+id+" (removed)")
		}
	}
	if o.StoreSpec != st.store {
		restart = append(restart, m.fileName("SESSION_STORE"))
	}
	if len(restart) > 0 {
		m.Logger.Warn("secret reload: these changed but take effect only at a restart: "+strings.Join(restart, ", "), "variables", restart)
	}
	if len(changed) == 0 {
		m.Logger.Info("secret reload: no secret changed")
		return nil
	}
	if err := m.BFF.RotateSecrets(rot); err != nil {
		m.Logger.Error("secret reload: nothing changed: the new secrets were refused", "variables", changed, "err", err)
		return err
	}
	if rot.Secrets != nil {
		st.secrets = slices.Clone(o.Secrets)
	}
	for id, c := range rot.Providers {
		st.providers[id] = c
	}
	m.Logger.Info("secret reload: rotated "+strings.Join(changed, ", "), "variables", changed)
	return nil
}

// first is list[0], "" for an empty list; rest is list[1:].
func first(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return list[0]
}

func rest(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	return list[1:]
}

// envID is a provider id as variables spell it (microsoft-entra-id:
// MICROSOFT_ENTRA_ID).
func envID(id string) string { return strings.ToUpper(strings.ReplaceAll(id, "-", "_")) }

// varName names the variable a setting spelt names (first the preferred)
// was read from: the first set in the server's environment, with _FILE
// when it is read from a file; names[0] when none is (a dotenv file).
func (m *Server) varName(names ...string) string {
	for _, n := range names {
		if n != "" && (m.lookup(n) != "" || m.lookup(n+"_FILE") != "") {
			return m.fileName(n)
		}
	}
	return names[0]
}

// fileName is name+"_FILE" when that is how the server reads name.
func (m *Server) fileName(name string) string {
	if m.lookup(name+"_FILE") != "" {
		return name + "_FILE"
	}
	return name
}

func (m *Server) lookup(name string) string {
	if m.src.Getenv != nil {
		v, _ := m.src.Getenv(name)
		return v
	}
	for _, kv := range m.src.Environ {
		if k, v, _ := strings.Cut(kv, "="); k == name {
			return v
		}
	}
	return ""
}
