// A real OpenID Connect provider (the certified `oidc-provider` library) for the portal's tests, standing in for
// a SPID/CIE broker: authorization code flow with PKCE, SPID assurance levels as acr values, and the SPID claims
// (fiscalNumber as TINIT-<codice fiscale>). Only the sign-in page is ours: every deployment of the library
// writes its own. Loopback only.
//
// Environment: PORT, CLIENTS (JSON array of {client_id, client_secret, redirect_uris}).
import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const LEVELS = ['https://www.spid.gov.it/SpidL1', 'https://www.spid.gov.it/SpidL2', 'https://www.spid.gov.it/SpidL3'];

// Test identities: the login is a fiscal code; a few known ones carry names and contacts.
const PEOPLE = {
  RSSMRA85T10A562S: { given_name: 'Mario', family_name: 'Rossi', email: 'mario.rossi@example.org', phone_number: '+393331234567' },
};

const clients = JSON.parse(process.env.CLIENTS).map((c) => ({
  ...c,
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
}));

const provider = new Provider(issuer, {
  clients,
  pkce: { required: () => true },
  acrValues: LEVELS,
  scopes: ['openid', 'profile', 'email', 'phone'],
  claims: {
    openid: ['sub'],
    profile: ['given_name', 'family_name', 'fiscalNumber'],
    email: ['email'],
    phone: ['phone_number'],
  },
  conformIdTokenClaims: false, // SPID brokers put the person's claims in the ID token too
  cookies: { keys: ['portal-tests-only-not-a-secret'] },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: async (ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, fiscalNumber: `TINIT-${sub}`, ...(PEOPLE[sub] ?? { given_name: 'Test', family_name: 'Persona' }) }),
  }),
});

const page = (body) => `<!doctype html><html lang="it"><head><meta charset="utf-8"><title>Test IdP</title></head><body><main>${body}</main></body></html>`;

async function readForm(req) {
  let data = '';
  for await (const chunk of req) data += chunk;
  return Object.fromEntries(new URLSearchParams(data));
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params, session } = details;
  if (prompt.name === 'login') {
    if (req.method === 'POST') {
      const form = await readForm(req);
      const level = LEVELS.includes(form.level) ? form.level : LEVELS[1];
      await provider.interactionFinished(req, res, { login: { accountId: form.login.trim().toUpperCase(), acr: level } }, { mergeWithLastSubmission: false });
      return;
    }
    const wanted = String(params.acr_values || LEVELS[1]).split(' ')[0];
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(page(`<h1>Test identity provider</h1>
<form method="post" action="/interaction/${uid}">
<label for="login">Codice fiscale</label> <input id="login" name="login" autocomplete="off">
<label for="level">Livello</label> <select id="level" name="level">${LEVELS.map((l) => `<option${l === wanted ? ' selected' : ''}>${l}</option>`).join('')}</select>
<button type="submit" id="signin">Entra</button>
</form>`));
    return;
  }
  // Consent: first-party broker, granted at once.
  const grant = new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

const callback = provider.callback();
http.createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((err) => { res.statusCode = 500; res.end(String(err)); });
    return;
  }
  callback(req, res);
}).listen(port, '127.0.0.1', () => console.log(`oidc provider ready on ${issuer}`));
