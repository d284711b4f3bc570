package notifications

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/comunitasocialecremasca/smartservices/i18n"
)

//go:embed templates/email.html
var templateFiles embed.FS

// Content is one message rendered in one language for every channel.
type Content struct {
	Subject string // e-mail subject; the inbox item's title
	Text    string // e-mail plain-text body
	HTML    string // e-mail HTML body (lang and dir of the language)
	SMS     string
	Inbox   string // the inbox item's text; empty for kinds that never reach the inbox
}

// Templates renders messages from the i18n catalogue. It is safe for concurrent use.
type Templates struct {
	bundle  *i18n.Bundle
	baseURL *url.URL
	html    *template.Template
}

// NewTemplates prepares the renderer; links in messages are made absolute on baseURL (config BASE_URL).
func NewTemplates(bundle *i18n.Bundle, baseURL *url.URL) (*Templates, error) {
	if bundle == nil || baseURL == nil {
		return nil, fmt.Errorf("notifications: templates need the i18n bundle and the base URL")
	}
	t, err := template.ParseFS(templateFiles, "templates/email.html")
	if err != nil {
		return nil, fmt.Errorf("notifications: %w", err)
	}
	return &Templates{bundle: bundle, baseURL: baseURL, html: t}, nil
}

type paragraph struct {
	Text string
	Code bool
}

// Render renders a message of kind in lang (unknown languages get Italian) with data, as Enqueue stored it.
// The citizen area uses it for inbox items, in the language the resident reads the page in.
func (t *Templates) Render(lang, kind string, data map[string]string) (Content, error) {
	spec, ok := kinds[kind]
	if !ok {
		return Content{}, fmt.Errorf("notifications: unknown kind %q", kind)
	}
	z := t.bundle.Localizer(lang)
	td := map[string]any{"Portal": PortalName}
	for name := range spec.fields {
		if v, ok := data[name]; ok {
			td[name] = v
		}
	}
	link := ""
	if p, ok := data["Link"]; ok {
		link = t.absolute(p)
		td["Link"] = link
	}
	if m, ok := data["Minutes"]; ok {
		n, err := strconv.Atoi(m)
		if err != nil {
			return Content{}, fmt.Errorf("notifications: %s: Minutes is not a number", kind)
		}
		td["Minutes"] = z.N("email.minutes", n)
	}
	if w, ok := data["When"]; ok {
		at, err := time.ParseInLocation(WhenLayout, w, i18n.Rome)
		if err != nil {
			return Content{}, fmt.Errorf("notifications: %s: When is not a date and time", kind)
		}
		td["When"] = z.DateTime(at)
	}

	prefix := "email." + kind + "."
	c := Content{
		Subject: z.T(prefix+"subject", td),
		SMS:     z.T("sms."+kind, td),
	}
	body := z.T(prefix+"text", td)
	footer := z.T("email.layout.footer", td)
	action := ""
	var text strings.Builder
	text.WriteString(body)
	if spec.action && link != "" {
		action = z.T(prefix+"action", td)
		fmt.Fprintf(&text, "\n\n%s:\n%s", action, link)
	}
	fmt.Fprintf(&text, "\n\n-- \n%s\n", footer)
	c.Text = text.String()
	if slices.Contains(spec.channels, Inbox) {
		c.Inbox = z.T("inbox."+kind, td)
	}

	var paras []paragraph
	for _, p := range strings.Split(body, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			paras = append(paras, paragraph{Text: p, Code: data["Code"] != "" && p == data["Code"]})
		}
	}
	align := "left"
	if z.Lang.RTL {
		align = "right"
	}
	var html bytes.Buffer
	err := t.html.Execute(&html, map[string]any{
		"Lang": z.Lang.Code, "Dir": z.Lang.Dir(), "Align": align, "Portal": PortalName, "Subject": c.Subject,
		"Paragraphs": paras, "Link": link, "Action": action, "Footer": footer,
	})
	if err != nil {
		return Content{}, fmt.Errorf("notifications: render %s: %w", kind, err)
	}
	c.HTML = html.String()
	return c, nil
}

// absolute makes a portal path absolute on the base URL.
func (t *Templates) absolute(p string) string {
	return strings.TrimRight(t.baseURL.String(), "/") + p
}
