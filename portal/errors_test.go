package portal_test

import (
	"testing"
)

// Every error kind the portal can show has a title and a text in every language.
func TestErrorMessagesExist(t *testing.T) {
	for _, msg := range []string{"bad_request", "forbidden", "cross_site", "not_found", "too_large", "too_many", "internal", "unavailable"} {
		for _, part := range []string{"title", "text"} {
			id := "error." + msg + "." + part
			for _, lang := range []string{"it", "en", "fr", "es", "ro", "sq", "uk", "ar", "zh-Hans", "pa"} {
				if err := bundle.Localizer(lang).Check(id, -1); err != nil {
					t.Errorf("%s in %s: %v", id, lang, err)
				}
			}
		}
	}
}
