package directory

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"ipdesk"
)

// OIDCConfig is the "oidc" section of the config file.
type OIDCConfig struct {
	// Issuer is the provider's issuer URL; its
	// /.well-known/openid-configuration describes the rest.
	Issuer string `json:"issuer"`
	// ClientID and ClientSecret (or ClientSecretFile) are ipdesk's
	// registration at the provider.
	ClientID         string `json:"client_id"`
	ClientSecret     string `json:"client_secret"`
	ClientSecretFile string `json:"client_secret_file"`
	// RedirectURL is ipdesk's callback as the browser reaches it:
	// https://ipdesk.example.org/login/oidc/callback.
	RedirectURL string `json:"redirect_url"`
	// Scopes are asked for besides "openid" (default profile, email,
	// groups).
	Scopes []string `json:"scopes"`
	// NameClaim is the ID token claim that becomes the ipdesk user name
	// (default preferred_username); FullNameClaim the display name
	// (default name); GroupsClaim the list of the user's groups (default
	// groups).
	NameClaim     string `json:"name_claim"`
	FullNameClaim string `json:"full_name_claim"`
	GroupsClaim   string `json:"groups_claim"`
	// Groups maps the provider's group names to ipdesk groups.
	Groups map[string][]string `json:"groups"`
	// Label is the text of the button on the sign-in page (default
	// "single sign-on").
	Label string `json:"label"`
}

// Enabled reports whether OpenID Connect sign-in is configured.
func (c *OIDCConfig) Enabled() bool { return c.Issuer != "" }

// OIDC signs users in through an OpenID Connect provider with the
// authorization code flow, PKCE, state and nonce. Create it with NewOIDC.
// The provider's discovery document is read at the first sign-in, and
// again after a failure.
type OIDC struct {
	cfg     OIDCConfig
	secret  string
	mapping groupMap
	client  *http.Client

	mu       sync.Mutex
	provider *oidc.Provider
}

// oidcTimeout bounds each call to the provider.
const oidcTimeout = 10 * time.Second

// NewOIDC checks c and returns the client. Errors name the key
// ("oidc.issuer") and the value. client talks to the provider; nil means
// a client with a timeout.
func NewOIDC(c OIDCConfig, client *http.Client) (*OIDC, error) {
	o := &OIDC{cfg: c, client: client}
	if o.client == nil {
		o.client = &http.Client{Timeout: oidcTimeout}
	}
	if u, err := url.Parse(c.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("oidc.issuer %q is not an http(s) URL such as \"https://sso.example.org/realms/school\"", c.Issuer)
	}
	if c.ClientID == "" {
		return nil, errors.New("oidc.client_id is empty; it is ipdesk's client id at the provider")
	}
	if c.ClientSecret != "" && c.ClientSecretFile != "" {
		return nil, errors.New("oidc.client_secret and oidc.client_secret_file are both set; use one")
	}
	o.secret = c.ClientSecret
	if c.ClientSecretFile != "" {
		b, err := os.ReadFile(c.ClientSecretFile)
		if err != nil {
			return nil, fmt.Errorf("oidc.client_secret_file: %w", err)
		}
		o.secret = strings.TrimRight(string(b), "\r\n")
	}
	if u, err := url.Parse(c.RedirectURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "/login/oidc/callback" {
		return nil, fmt.Errorf("oidc.redirect_url %q is not ipdesk's callback URL such as \"https://ipdesk.example.org/login/oidc/callback\"", c.RedirectURL)
	}
	if o.cfg.NameClaim == "" {
		o.cfg.NameClaim = "preferred_username"
	}
	if o.cfg.FullNameClaim == "" {
		o.cfg.FullNameClaim = "name"
	}
	if o.cfg.GroupsClaim == "" {
		o.cfg.GroupsClaim = "groups"
	}
	if o.cfg.Scopes == nil {
		o.cfg.Scopes = []string{"profile", "email", "groups"}
	}
	if o.cfg.Label == "" {
		o.cfg.Label = "single sign-on"
	}
	var err error
	if o.mapping, err = newGroupMap("oidc.groups", c.Groups); err != nil {
		return nil, err
	}
	return o, nil
}

// Label is the text of the sign-in button.
func (o *OIDC) Label() string { return o.cfg.Label }

// discover returns the provider, reading its discovery document once.
func (o *OIDC) discover(ctx context.Context) (*oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider != nil {
		return o.provider, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, o.client), o.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("the OpenID Connect provider %s did not answer as configured: %w", o.cfg.Issuer, err)
	}
	o.provider = p
	return p, nil
}

func (o *OIDC) oauth(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.secret, RedirectURL: o.cfg.RedirectURL,
		Endpoint: p.Endpoint(), Scopes: append([]string{oidc.ScopeOpenID}, o.cfg.Scopes...)}
}

// AuthURL returns where to send the browser to sign in: the provider's
// authorization endpoint with state, nonce and the PKCE challenge of
// verifier.
func (o *OIDC) AuthURL(ctx context.Context, state, nonce, verifier string) (string, error) {
	p, err := o.discover(ctx)
	if err != nil {
		return "", err
	}
	return o.oauth(p).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// Exchange redeems the code the provider sent back with the PKCE
// verifier, checks the ID token (signature, issuer, audience, expiry and
// nonce) and returns the identity it vouches for. A refused code or token
// gives EUNAUTHORIZED; a provider that does not answer, an internal error.
func (o *OIDC) Exchange(ctx context.Context, code, verifier, nonce string) (*ipdesk.DirectoryIdentity, error) {
	p, err := o.discover(ctx)
	if err != nil {
		return nil, err
	}
	ctx = oidc.ClientContext(ctx, o.client)
	tok, err := o.oauth(p).Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return nil, ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "the provider refused the sign-in: %s", re.ErrorCode)
		}
		return nil, fmt.Errorf("redeem the code at the OpenID Connect provider: %w", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return nil, ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "the provider sent no ID token")
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID}).Verify(ctx, raw)
	if err != nil {
		return nil, ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "the ID token is not valid: %v", err)
	}
	if idt.Nonce == "" || idt.Nonce != nonce {
		return nil, ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "the ID token's nonce does not match the sign-in")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "the ID token's claims cannot be read: %v", err)
	}
	name, _ := claims[o.cfg.NameClaim].(string)
	if name == "" {
		return nil, ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "the ID token has no claim %q with the user name", o.cfg.NameClaim)
	}
	full, _ := claims[o.cfg.FullNameClaim].(string)
	var groups []string
	switch g := claims[o.cfg.GroupsClaim].(type) {
	case []any:
		for _, v := range g {
			if s, ok := v.(string); ok {
				groups = append(groups, s)
			}
		}
	case string:
		groups = []string{g}
	}
	return &ipdesk.DirectoryIdentity{Source: ipdesk.DirectoryOIDC, Name: name, FullName: full,
		Groups: o.mapping.lookup(groups), Managed: o.mapping.managed()}, nil
}
