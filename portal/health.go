package portal

import (
	"context"
	"net/netip"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/comunitasocialecremasca/smartservices/assets"
)

const assetsRoute = assets.Prefix + "*"

// showHealth answers as long as the process runs.
func (s *Server) showHealth(c *fiber.Ctx) error {
	return c.SendString("ok")
}

// showReadiness answers 200 only when PostgreSQL and Redis answer and the process is not draining.
func (s *Server) showReadiness(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	if s.draining.Load() {
		return c.Status(fiber.StatusServiceUnavailable).SendString("draining")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var failed []string
	if err := s.DB.Ping(ctx); err != nil {
		failed = append(failed, "postgresql")
	}
	if err := s.Redis.Ping(ctx).Err(); err != nil {
		failed = append(failed, "redis")
	}
	if len(failed) > 0 {
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"ready": false, "failing": failed})
	}
	return c.JSON(fiber.Map{"ready": true})
}

// showMetrics serves Prometheus metrics to the addresses in METRICS_ALLOW only.
func (s *Server) showMetrics(c *fiber.Ctx) error {
	addr, err := netip.ParseAddr(c.Context().RemoteIP().String())
	if err != nil {
		return errNotFound(err)
	}
	for _, p := range s.Config.MetricsAllow {
		if p.Contains(addr.Unmap()) {
			return s.metrics.handler(c)
		}
	}
	return errNotFound(nil)
}

// serveAsset serves embedded files by checksum URL: cached for a year, gzip when the client accepts it.
func (s *Server) serveAsset(c *fiber.Ctx) error {
	f, ok := assets.Lookup(c.Path())
	if !ok {
		return errNotFound(nil)
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	c.Set(fiber.HeaderETag, f.ETag)
	c.Set(fiber.HeaderContentType, f.ContentType)
	c.Vary(fiber.HeaderAcceptEncoding)
	if c.Get(fiber.HeaderIfNoneMatch) == f.ETag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	if f.Gzip != nil && acceptsGzip(c) {
		c.Set(fiber.HeaderContentEncoding, "gzip")
		return c.Send(f.Gzip)
	}
	return c.Send(f.Body)
}

func (s *Server) redirectFavicon(c *fiber.Ctx) error {
	return c.Redirect(assets.URL("favicon.svg"), fiber.StatusMovedPermanently)
}

// httpMetrics are the request counters and latency histograms, labelled by route pattern (bounded cardinality).
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	handler  fiber.Handler
}

func newHTTPMetrics(reg *prometheus.Registry) (*httpMetrics, error) {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_http_requests_total", Help: "HTTP requests by method, route and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "portal_http_request_duration_seconds", Help: "HTTP request duration by method and route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
	}
	for _, col := range []prometheus.Collector{m.requests, m.duration, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := reg.Register(col); err != nil {
			return nil, err
		}
	}
	m.handler = adaptor.HTTPHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return m, nil
}

func (m *httpMetrics) observe(method, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(d.Seconds())
}
