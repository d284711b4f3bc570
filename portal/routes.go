package portal

import (
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/gofiber/fiber/v2/middleware/helmet"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"
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

	// Pages: session, language, CSRF on every state-changing request, rate limit on those too.
	web := app.Group("", compress.New(compress.Config{Level: compress.LevelBestSpeed}), s.timeout, s.sessionMiddleware, s.languageMiddleware, s.csrfMiddleware, s.formRateLimit)
	web.Get("/", s.showHomePage)
	web.Get("/misure", s.showMeasuresPage)
	web.Get("/misure/:slug", s.showMeasurePage)
	web.Get("/servizi/:slug", s.showServicePage)
	web.Get("/sedi", s.showOfficesPage)
	web.Get("/lingua", s.showLanguagePage)
	web.Post("/lingua", s.submitLanguage)
	web.Get("/accessibilita", s.showLegalPage("accessibility"))
	web.Get("/privacy", s.showLegalPage("privacy"))
	web.Get("/cookie", s.showLegalPage("cookies"))

	web.Use(func(c *fiber.Ctx) error { return errNotFound(nil) })
}
