package portal

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/comunitasocialecremasca/smartservices/portal/config"
	"github.com/comunitasocialecremasca/smartservices/portal/testenv"
)

// An ID token is accepted only if it was issued to this portal, for this request (nonce), at the level required.
func TestVerifyIdentity(t *testing.T) {
	const cb = "http://127.0.0.1:8080/accesso/oidc/callback"
	issuer := testenv.StartOIDCProvider(t,
		testenv.OIDCClient{ID: "portal", Secret: "portal-secret-portal-secret-01", RedirectURI: []string{cb}},
		testenv.OIDCClient{ID: "other-service", Secret: "other-secret-other-secret-0123", RedirectURI: []string{cb}})
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatal(err)
	}
	// A real token response issued to another relying party of the same provider.
	tokenFor := func(clientID, secret, level string) (*oauth2.Token, string) {
		conf := &oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: provider.Endpoint(), RedirectURL: cb,
			Scopes: []string{oidc.ScopeOpenID, "profile"}}
		verifier, nonce, state := oauth2.GenerateVerifier(), rand.Text(), rand.Text()
		back := testenv.IdPLogin(t, conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce),
			oauth2.SetAuthURLParam("acr_values", level)), "RSSMRA85T10A562S", level)
		tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		return tok, nonce
	}
	s := &Server{Deps: Deps{Config: &config.Config{Identity: config.Identity{OIDCACR: spidLevels[1]}}}}
	ours := provider.Verifier(&oidc.Config{ClientID: "portal"})

	other, otherNonce := tokenFor("other-service", "other-secret-other-secret-0123", spidLevels[1])
	if _, err := s.verifyIdentity(ctx, ours, other, otherNonce); err == nil || !strings.Contains(err.Error(), "audience") {
		t.Errorf("token for another audience: %v", err)
	}
	tok, nonce := tokenFor("portal", "portal-secret-portal-secret-01", spidLevels[1])
	if _, err := s.verifyIdentity(ctx, ours, tok, "another-request"); !errors.Is(err, errOIDCNonce) {
		t.Errorf("wrong nonce: %v", err)
	}
	claims, err := s.verifyIdentity(ctx, ours, tok, nonce)
	if err != nil || claims.FiscalNumber != "TINIT-RSSMRA85T10A562S" || claims.ACR != spidLevels[1] {
		t.Errorf("valid token: %+v, %v", claims, err)
	}
	low, lowNonce := tokenFor("portal", "portal-secret-portal-secret-01", spidLevels[0])
	if _, err := s.verifyIdentity(ctx, ours, low, lowNonce); !errors.Is(err, errOIDCLevel) {
		t.Errorf("SpidL1 when L2 is required: %v", err)
	}
	// A token whose signature was tampered with.
	raw := tok.Extra("id_token").(string)
	forged := tok.WithExtra(map[string]any{"id_token": raw[:len(raw)-4] + "AAAA"})
	if _, err := s.verifyIdentity(ctx, ours, forged, nonce); err == nil {
		t.Error("tampered signature accepted")
	}
}

func TestLevelAtLeast(t *testing.T) {
	for _, c := range []struct {
		got, want string
		ok        bool
	}{{spidLevels[2], spidLevels[1], true}, {spidLevels[1], spidLevels[1], true}, {spidLevels[0], spidLevels[1], false},
		{"", spidLevels[1], false}, {"urn:cie:L3", "urn:cie:L3", true}, {"urn:x", "urn:y", false}, {"", "", true}} {
		if got := levelAtLeast(c.got, c.want); got != c.ok {
			t.Errorf("levelAtLeast(%q, %q) = %v", c.got, c.want, got)
		}
	}
}
