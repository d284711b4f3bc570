package portal

import (
	"slices"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/gofiber/fiber/v2/middleware/helmet"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"

	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

// contentSecurityPolicy allows nothing inline and nothing from elsewhere: pages work without JavaScript, and what
// little JavaScript comes later is a same-origin file.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// routes is the whole site at a glance.
func (s *Server) routes() {
	app := s.app
	app.Use(recover.New())
	app.Use(requestid.New(requestid.Config{Header: "X-Request-ID", Generator: newRequestID}))
	app.Use(s.accessLog)
	app.Use(helmet.New(helmet.Config{
		ContentSecurityPolicy: contentSecurityPolicy,
		ReferrerPolicy:        "strict-origin-when-cross-origin",
		XFrameOptions:         "DENY",
		HSTSMaxAge:            31536000, // sent only over HTTPS
		PermissionPolicy:      "camera=(self), microphone=(self), geolocation=(), payment=()",
	}))

	// Machine endpoints: no session, no language.
	app.Get("/healthz", s.showHealth)
	app.Get("/readyz", s.showReadiness)
	app.Get("/metrics", s.showMetrics)
	app.Get(assetsRoute, s.serveAsset)
	app.Get("/favicon.ico", s.redirectFavicon)

	// Public pages: the same for every visitor, so they need no session and are served from the page cache,
	// compressed once; they keep working while Redis is down.
	public := chain(s.limitBody, s.timeout, s.crossOriginMiddleware, s.languageMiddleware)
	app.Get("/", public(s.showHomePage)...)
	app.Get("/misure", public(s.showMeasuresPage)...)
	app.Get("/misure/:slug", public(s.showMeasurePage)...)
	app.Get("/misure/:slug/verifica", public(s.showMeasureCheckPage)...) // depends on the answers: rendered, not cached
	app.Post("/misure/:slug/verifica", public(s.submitMeasureCheck)...)
	app.Get("/servizi/:slug", public(s.showServicePage)...)
	app.Get("/sedi", public(s.showOfficesPage)...)
	app.Get("/graduatorie/:call<int>/:category", public(s.showPublicRankingPage)...) // approved ones only, by protocol
	app.Get("/accessibilita", public(s.showLegalPage("accessibility"))...)
	app.Get("/privacy", public(s.showLegalPage("privacy"))...)
	app.Get("/cookie", public(s.showLegalPage("cookies"))...)

	// Pages with a citizen session (Redis): cross-origin check and rate limit on state-changing requests.
	sessionMW := []fiber.Handler{s.timeout, s.crossOriginMiddleware, s.formRateLimit, s.sessions.middleware(s.now),
		s.languageMiddleware, compress.New(compress.Config{Level: compress.LevelBestSpeed})}
	withSession := chain(append([]fiber.Handler{s.limitBody}, sessionMW...)...)
	app.Get("/lingua", withSession(s.showLanguagePage)...)
	app.Post("/lingua", withSession(s.submitLanguage)...)

	// Citizen sign-in: SPID/CIE through OpenID Connect, or a code sent by e-mail.
	app.Get("/accesso", withSession(s.showSignInPage)...)
	app.Post("/accesso/spid", withSession(s.startOIDC)...)
	app.Get("/accesso/oidc/callback", withSession(s.finishOIDC)...)
	app.Post("/accesso/email", withSession(s.sendSignInCode)...)
	app.Get("/accesso/email/codice", withSession(s.showCodePage)...)
	app.Post("/accesso/email/codice", withSession(s.checkSignInCode)...)
	app.Get("/accesso/codice-fiscale", withSession(s.showFiscalCodePage)...)
	app.Post("/accesso/codice-fiscale", withSession(s.submitFiscalCode)...)
	app.Post("/esci", withSession(s.signOut)...)

	// The personal area: signed-in residents only.
	citizenMW := append(slices.Clone(sessionMW), s.requireCitizen)
	signedIn := chain(append([]fiber.Handler{s.limitBody}, citizenMW...)...)
	app.Get("/area-personale", signedIn(s.showPersonalArea)...)
	app.Get("/area-personale/profilo", signedIn(s.showProfilePage)...)
	app.Post("/area-personale/profilo", signedIn(s.submitProfile)...)
	app.Get("/area-personale/dati", signedIn(s.exportOwnData)...)
	app.Get("/area-personale/messaggi", signedIn(s.showMessagesPage)...)
	app.Post("/area-personale/messaggi/:id/letto", signedIn(s.markMessageRead)...)
	app.Post("/esci-ovunque", signedIn(s.signOutEverywhere)...)

	// Applications (istanze): start, steps, documents, summary, submit, receipt, "Le mie pratiche".
	app.Get("/misure/:slug/domanda", signedIn(s.showApplyPage)...)
	app.Post("/misure/:slug/domanda", signedIn(s.startApplication)...)
	app.Get("/pratiche", signedIn(s.showApplications)...)
	app.Get("/pratiche/:id<int>", signedIn(s.showApplication)...)
	app.Get("/pratiche/:id<int>/passo/:step", signedIn(s.showStep)...)
	app.Post("/pratiche/:id<int>/passo/:step", signedIn(s.saveStep)...)
	app.Get("/pratiche/:id<int>/documenti", signedIn(s.showDocuments)...)
	app.Get("/pratiche/:id<int>/documenti/:file<int>", signedIn(s.downloadDocument)...)
	app.Post("/pratiche/:id<int>/documenti/:file<int>/elimina", signedIn(s.deleteDocument)...)
	app.Get("/pratiche/:id<int>/riepilogo", signedIn(s.showSummary)...)
	app.Post("/pratiche/:id<int>/invia", signedIn(s.submitApplication)...)
	app.Get("/pratiche/:id<int>/ricevuta", signedIn(s.downloadReceipt)...)
	app.Post("/pratiche/:id<int>/valutazione", signedIn(s.rateApplication)...)
	app.Post("/pratiche/:id<int>/elimina", signedIn(s.deleteDraft)...)
	// After submitting: the office's request (the notification links here), messages, withdrawal.
	app.Get("/pratiche/:id<int>/richiesta", signedIn(s.showRequestPage)...)
	app.Post("/pratiche/:id<int>/richiesta", signedIn(s.submitRequestAnswer)...)
	app.Post("/pratiche/:id<int>/richiesta/documenti/:file<int>/elimina", signedIn(s.deleteRequestDocument)...)
	app.Post("/pratiche/:id<int>/messaggi", signedIn(s.submitApplicationMessage)...)
	app.Post("/pratiche/:id<int>/ritira", signedIn(s.submitApplicationWithdraw)...)
	// Uploads are the one place a body may exceed BODY_LIMIT: up to DOCUMENTS_MAX_FILE plus the form around it.
	upload := chain(citizenMW...) // signedIn without limitBody
	app.Post("/pratiche/:id<int>/documenti", upload(s.uploadDocument)...)
	app.Post("/pratiche/:id<int>/richiesta/documenti", upload(s.uploadRequestDocument)...)

	// Appointments: service → office → day and time (held while confirming) → confirm; "I miei appuntamenti".
	app.Get(appointmentsPath, signedIn(s.showAppointmentsPage)...)
	app.Get(appointmentsPath+"/:id<int>", signedIn(s.showAppointmentPage)...)
	app.Get(appointmentsPath+"/:id<int>/annulla", signedIn(s.showAppointmentCancelPage)...)
	app.Post(appointmentsPath+"/:id<int>/annulla", signedIn(s.submitAppointmentCancel)...)
	app.Get(appointmentsPath+"/:id<int>/sposta", signedIn(s.showAppointmentMovePage)...)
	app.Post(appointmentsPath+"/:id<int>/sposta", signedIn(s.submitAppointmentMove)...)
	app.Get(appointmentsPath+"/:id<int>/calendario.ics", signedIn(s.downloadAppointmentCalendar)...)
	// The confirmation's link (appointment_manage.go): the same without signing in, the secret in the URL.
	app.Get(managePath+":token", withSession(s.showManagedAppointment)...)
	app.Get(managePath+":token/annulla", withSession(s.showManagedCancelPage)...)
	app.Post(managePath+":token/annulla", withSession(s.submitManagedCancel)...)
	app.Get(managePath+":token/sposta", withSession(s.showAppointmentMovePage)...)
	app.Post(managePath+":token/sposta", withSession(s.submitAppointmentMove)...)
	app.Get(managePath+":token/calendario.ics", withSession(s.downloadAppointmentCalendar)...)
	// Online colloqui (colloqui.go): an online appointment's video room for the resident, and for the mediator the
	// worker invited; each page has its WebSocket (signalling and chat, relayed among nodes through Redis).
	socket := chain(s.crossOriginMiddleware, s.sessions.middleware(s.now), s.languageMiddleware)
	app.Get(colloquiPath+"/:id<int>", signedIn(s.showColloquioPage)...)
	app.Get(colloquiPath+"/:id<int>/ws", socket(s.openColloquioSocket)...)
	app.Get(inviteColloquio+":token", withSession(s.showInvitedColloquioPage)...)
	app.Get(inviteColloquio+":token/ws", socket(s.openInvitedColloquioSocket)...)
	// The steps up to the confirm page are open to visitors for services that allow guests (booking_guest.go), who
	// confirm with a code sent to their e-mail; for the others they ask to sign in.
	app.Get(bookingPath, withSession(s.showBookingServicesPage)...)
	app.Get(bookingPath+"/:service", withSession(s.showBookingOfficesPage)...)
	app.Get(bookingPath+"/:service/:office", withSession(s.showBookingSlotsPage)...)
	app.Post(bookingPath+"/:service/:office", withSession(s.submitSlotHold)...)
	app.Get(bookingPath+"/:service/:office/conferma", withSession(s.showBookingConfirmPage)...)
	app.Post(bookingPath+"/:service/:office/conferma", signedIn(s.submitBooking)...)
	app.Post(bookingPath+"/:service/:office/ospite", withSession(s.submitGuestDetails)...)
	app.Get(bookingPath+"/:service/:office/ospite/codice", withSession(s.showGuestCodePage)...)
	app.Post(bookingPath+"/:service/:office/ospite/codice", withSession(s.submitGuestCode)...)
	app.Post(bookingPath+"/:service/:office/ospite/nuovo-codice", withSession(s.resendGuestCode)...)

	// The JSON API of the district's other systems (api.go): a bearer token per system with scopes, no session, no
	// cookie; errors as problem+json. The description is public; unknown API paths are problems too.
	app.Get(apiPrefix+"/openapi.json", s.apiProblems, s.showOpenAPI)
	app.Get(apiPrefix+"/applications", s.apiRoute(storage.APIScopeApplicationsRead, s.listAPIApplications)...)
	app.Get(apiPrefix+"/applications/:id", s.apiRoute(storage.APIScopeApplicationsRead, s.showAPIApplication)...)
	app.Get(apiPrefix+"/applications/:id/documents/:doc", s.apiRoute(storage.APIScopeDocumentsRead, s.downloadAPIDocument)...)
	app.Post(apiPrefix+"/applications/:id/status", s.apiRoute(storage.APIScopeStatusWrite, s.submitAPIStatus)...)
	app.Use("/api/", s.apiProblems, s.apiNotFound)

	s.staffRoutes()

	for _, h := range public(func(c *fiber.Ctx) error { return errNotFound(nil) }) {
		app.Use(h)
	}
}

// chain returns a function that puts the middleware before a handler. Middleware is attached per route, not per
// group: Fiber runs a group's middleware for every path under its prefix, and both groups here share "/".
func chain(middleware ...fiber.Handler) func(fiber.Handler) []fiber.Handler {
	return func(h fiber.Handler) []fiber.Handler {
		return append(append(make([]fiber.Handler, 0, len(middleware)+1), middleware...), h)
	}
}
