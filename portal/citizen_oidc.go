package portal

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gofiber/fiber/v2"
	"golang.org/x/oauth2"

	"github.com/comunitasocialecremasca/smartservices/forms"
	"github.com/comunitasocialecremasca/smartservices/portal/config"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// spidLevels orders the SPID assurance levels; a provider asserting a lower level than OIDC_ACR is refused.
var spidLevels = []string{"https://www.spid.gov.it/SpidL1", "https://www.spid.gov.it/SpidL2", "https://www.spid.gov.it/SpidL3"}

// oidcRP is the portal as an OpenID Connect relying party of a SPID/CIE provider or broker. Discovery happens on
// first use and is retried until it succeeds, so the portal starts (and serves everything else) while the
// provider is unreachable.
type oidcRP struct {
	cfg      config.Identity
	redirect string
	client   *http.Client

	mu       sync.Mutex
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
	provider *oidc.Provider
}

func newOIDCRP(cfg config.Identity, baseURL string) *oidcRP {
	return &oidcRP{cfg: cfg, redirect: baseURL + "/accesso/oidc/callback", client: &http.Client{Timeout: 10 * time.Second}}
}

func (r *oidcRP) ready(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, *oidc.Provider, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.provider == nil {
		p, err := oidc.NewProvider(oidc.ClientContext(ctx, r.client), r.cfg.OIDCIssuer)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("oidc: discovery: %w", err)
		}
		r.provider = p
		r.verifier = p.Verifier(&oidc.Config{ClientID: r.cfg.OIDCClientID})
		r.oauth = &oauth2.Config{
			ClientID: r.cfg.OIDCClientID, ClientSecret: r.cfg.OIDCClientSecret, Endpoint: p.Endpoint(),
			RedirectURL: r.redirect, Scopes: []string{oidc.ScopeOpenID, "profile", "email", "phone"},
		}
	}
	return r.oauth, r.verifier, r.provider, nil
}

// authOrigin is the origin of the provider's authorization endpoint (the issuer's until discovery succeeds).
func (r *oidcRP) authOrigin(ctx context.Context) string {
	target := r.cfg.OIDCIssuer
	if oauth, _, _, err := r.ready(ctx); err == nil {
		target = oauth.Endpoint.AuthURL
	}
	u, err := url.Parse(target)
	if err != nil {
		return "'none'"
	}
	return u.Scheme + "://" + u.Host
}

// identityClaims are the claims the portal reads; SPID names the fiscal code fiscalNumber, as TINIT-<code>.
type identityClaims struct {
	Nonce        string `json:"nonce"`
	ACR          string `json:"acr"`
	FiscalNumber string `json:"fiscalNumber"`
	GivenName    string `json:"given_name"`
	FamilyName   string `json:"family_name"`
	Email        string `json:"email"`
	Phone        string `json:"phone_number"`
}

// Errors of the sign-in callback; each is shown as "sign-in failed, try again" and logged with its cause.
var (
	errOIDCState = errors.New("oidc: state does not match the request in flight")
	errOIDCNonce = errors.New("oidc: nonce does not match")
	errOIDCLevel = errors.New("oidc: assurance level lower than required")
	errOIDCCF    = errors.New("oidc: no valid fiscal code in the claims")
)

func errSignIn(cause error) error {
	return &Error{Status: fiber.StatusBadRequest, Msg: "signin_failed", Cause: cause}
}

// startOIDC sends the resident to the provider: authorization code flow with PKCE, state, nonce, acr_values.
func (s *Server) startOIDC(c *fiber.Ctx) error {
	if s.oidc == nil {
		return errNotFound(nil)
	}
	oauth, _, _, err := s.oidc.ready(c.UserContext())
	if err != nil {
		return &Error{Status: fiber.StatusServiceUnavailable, Msg: "unavailable", Cause: err}
	}
	sess := sessionOf(c)
	state, nonce, verifier := rand.Text(), rand.Text(), oauth2.GenerateVerifier()
	sess.Set(keyOIDCState, state)
	sess.Set(keyOIDCNonce, nonce)
	sess.Set(keyOIDCPKCE, verifier)
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)}
	if s.Config.Identity.OIDCACR != "" {
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", s.Config.Identity.OIDCACR))
	}
	opts = append(opts, oauth2.SetAuthURLParam("ui_locales", s.localizer(c).Lang.Code))
	return c.Redirect(oauth.AuthCodeURL(state, opts...), fiber.StatusSeeOther)
}

// finishOIDC is the provider's redirect back: it checks state, exchanges the code with the PKCE verifier, verifies
// the ID token (signature, issuer, audience, expiry, nonce, level), and signs the resident in by fiscal code.
func (s *Server) finishOIDC(c *fiber.Ctx) error {
	if s.oidc == nil {
		return errNotFound(nil)
	}
	sess := sessionOf(c)
	state, _ := sess.Get(keyOIDCState).(string)
	nonce, _ := sess.Get(keyOIDCNonce).(string)
	verifier, _ := sess.Get(keyOIDCPKCE).(string)
	// One use only: whatever happens next, this request in flight is spent.
	sess.Delete(keyOIDCState, keyOIDCNonce, keyOIDCPKCE)
	if e := c.Query("error"); e != "" {
		return errSignIn(fmt.Errorf("oidc: provider says %q", e))
	}
	if state == "" || c.Query("state") != state {
		return errSignIn(errOIDCState)
	}
	ctx := oidc.ClientContext(c.UserContext(), s.oidc.client)
	oauth, idVerifier, provider, err := s.oidc.ready(ctx)
	if err != nil {
		return &Error{Status: fiber.StatusServiceUnavailable, Msg: "unavailable", Cause: err}
	}
	token, err := oauth.Exchange(ctx, c.Query("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		return errSignIn(fmt.Errorf("oidc: exchange: %w", err))
	}
	claims, err := s.verifyIdentity(ctx, idVerifier, token, nonce)
	if err != nil {
		return errSignIn(err)
	}
	if claims.FiscalNumber == "" { // some brokers give the person's claims only at the userinfo endpoint
		if ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(token)); err == nil {
			var more identityClaims
			if ui.Claims(&more) == nil {
				claims.FiscalNumber, claims.GivenName, claims.FamilyName = more.FiscalNumber, more.GivenName, more.FamilyName
				claims.Email, claims.Phone = more.Email, more.Phone
			}
		}
	}
	cf, msg := forms.ParseCodiceFiscale(strings.TrimPrefix(claims.FiscalNumber, "TINIT-"), s.now())
	if msg != "" {
		return errSignIn(errOIDCCF)
	}
	email, _ := forms.NormalizeEmail(claims.Email)
	phone, _ := forms.NormalizePhone(claims.Phone)
	p, _, err := s.DB.UpsertFromIdentity(c.UserContext(), storage.IdentityClaims{
		FiscalCode: cf.Code, GivenName: claims.GivenName, FamilyName: claims.FamilyName, Email: email, Phone: phone,
		Lang: s.localizer(c).Lang.Code,
	}, "spid", claims.ACR, s.welcome)
	if err != nil {
		return err
	}
	return s.signInCitizen(c.UserContext(), c, p, "spid", claims.ACR)
}

// verifyIdentity checks the ID token of a token response: signature, issuer, audience and expiry (go-oidc), then
// the nonce of this request and the assurance level.
func (s *Server) verifyIdentity(ctx context.Context, v *oidc.IDTokenVerifier, token *oauth2.Token, nonce string) (identityClaims, error) {
	raw, ok := token.Extra("id_token").(string)
	if !ok {
		return identityClaims{}, errors.New("oidc: no id_token in the token response")
	}
	idt, err := v.Verify(ctx, raw)
	if err != nil {
		return identityClaims{}, fmt.Errorf("oidc: verify: %w", err)
	}
	var claims identityClaims
	if err := idt.Claims(&claims); err != nil {
		return identityClaims{}, fmt.Errorf("oidc: claims: %w", err)
	}
	if nonce == "" || claims.Nonce != nonce {
		return identityClaims{}, errOIDCNonce
	}
	if !levelAtLeast(claims.ACR, s.Config.Identity.OIDCACR) {
		return identityClaims{}, errOIDCLevel
	}
	return claims, nil
}

// levelAtLeast reports whether the asserted level meets the required one. Unknown levels must match exactly.
func levelAtLeast(got, want string) bool {
	if want == "" {
		return true
	}
	gi, wi := -1, -1
	for i, l := range spidLevels {
		if l == got {
			gi = i
		}
		if l == want {
			wi = i
		}
	}
	if gi < 0 || wi < 0 {
		return got == want
	}
	return gi >= wi
}
