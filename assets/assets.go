// Package assets embeds the portal's static files (CSS, fonts, icons) and names each with a checksum URL, so they
// can be cached for a year and still change the moment a release changes them.
package assets

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"path"
	"regexp"
	"strings"
)

//go:embed static
var static embed.FS

// File is one static file, ready to serve.
type File struct {
	Name        string // logical name, e.g. css/portal.css
	URL         string // /assets/css/portal.3f2a9c1d.css
	ContentType string
	Body        []byte
	Gzip        []byte // nil when compression does not pay (fonts are compressed already)
	ETag        string
}

var (
	byName = map[string]*File{}
	byURL  = map[string]*File{}
)

// Prefix is the URL path under which assets are served.
const Prefix = "/assets/"

// cssURL matches a relative url(...) in a stylesheet, such as url(../fonts/titillium-web-400.woff2).
var cssURL = regexp.MustCompile(`url\(["']?([a-zA-Z0-9_./-]+)["']?\)`)

func init() {
	var sheets []string
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if path.Ext(p) == ".css" {
			sheets = append(sheets, p) // after the files they reference, whose URLs they embed
			return nil
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		add(strings.TrimPrefix(p, "static/"), body)
		return nil
	})
	if err != nil {
		panic("assets: " + err.Error())
	}
	for _, p := range sheets {
		body, err := static.ReadFile(p)
		if err != nil {
			panic("assets: " + err.Error())
		}
		name := strings.TrimPrefix(p, "static/")
		body = cssURL.ReplaceAllFunc(body, func(m []byte) []byte {
			ref := string(cssURL.FindSubmatch(m)[1])
			if f, ok := byName[path.Join(path.Dir(name), ref)]; ok {
				return []byte("url(" + f.URL + ")")
			}
			return m
		})
		add(name, body)
	}
}

// add names a file by its content's checksum and prepares its gzip form.
func add(name string, body []byte) {
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])[:12]
	ext := path.Ext(name)
	f := &File{
		Name:        name,
		URL:         Prefix + strings.TrimSuffix(name, ext) + "." + hash + ext,
		ContentType: mime.TypeByExtension(ext),
		Body:        body,
		ETag:        `"` + hash + `"`,
	}
	if ext == ".svg" {
		f.ContentType = "image/svg+xml"
	}
	if ext == ".css" || ext == ".svg" || ext == ".js" {
		f.Gzip = compress(body)
	}
	byName[name] = f
	byURL[f.URL] = f
}

func compress(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	w.Write(b) //nolint:errcheck // writes to memory
	w.Close()
	if buf.Len() >= len(b) {
		return nil
	}
	return buf.Bytes()
}

// URL returns the checksum URL of a logical name; an unknown name gives a URL that 404s (the views tests fail on
// any asset name a template uses that does not exist).
func URL(name string) string {
	if f, ok := byName[name]; ok {
		return f.URL
	}
	return Prefix + "missing/" + name
}

// Lookup finds a file by its checksum URL path.
func Lookup(urlPath string) (*File, bool) {
	f, ok := byURL[urlPath]
	return f, ok
}

// Files lists every embedded file.
func Files() []*File {
	out := make([]*File, 0, len(byName))
	for _, f := range byName {
		out = append(out, f)
	}
	return out
}
