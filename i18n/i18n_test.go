package i18n

import (
	"regexp"
	"slices"
	"testing"
	"testing/fstest"
)

// verbs finds the fmt verbs of a text.
var verbs = regexp.MustCompile(`%[-+# 0]*[0-9]*(\.[0-9]+)?[a-zA-Z%]`)

// TestCatalogsAgree: every language has every key, with the same fmt verbs
// in the same order, and no text is empty.
func TestCatalogsAgree(t *testing.T) {
	en := For("en")
	if len(en.Keys()) == 0 {
		t.Fatal("the English catalogue is empty")
	}
	for _, lang := range Languages {
		c := For(lang)
		if c.Lang != lang {
			t.Fatalf("For(%q) gave %q", lang, c.Lang)
		}
		for _, k := range en.Keys() {
			if !c.Has(k) {
				t.Errorf("%s: missing key %q (en: %q)", lang, k, en.T(k))
				continue
			}
			if c.texts[k] == "" {
				t.Errorf("%s: key %q is empty", lang, k)
			}
			if want, got := verbs.FindAllString(en.texts[k], -1), verbs.FindAllString(c.texts[k], -1); !slices.Equal(want, got) {
				t.Errorf("%s: key %q has the verbs %v, English has %v", lang, k, got, want)
			}
		}
		for _, k := range c.Keys() {
			if !en.Has(k) {
				t.Errorf("%s: key %q is not in the English catalogue", lang, k)
			}
		}
	}
}

func TestLoadRefusesDuplicates(t *testing.T) {
	fsys := fstest.MapFS{
		"messages/en/a.json": {Data: []byte(`{"x": "1"}`)},
		"messages/en/b.json": {Data: []byte(`{"x": "2"}`)},
	}
	if _, err := load(fsys); err == nil {
		t.Fatal("a key defined in two files was accepted")
	}
	fsys = fstest.MapFS{"messages/en/a.json": {Data: []byte(`{"x": 1}`)}}
	if _, err := load(fsys); err == nil {
		t.Fatal("a catalogue with a number as text was accepted")
	}
}

func TestMatch(t *testing.T) {
	for _, c := range []struct{ header, want string }{
		{"", ""},
		{"de-DE,de;q=0.9,en;q=0.8", "de"},
		{"ru", "ru"},
		{"fr-FR, ru;q=0.5, en;q=0.4", "ru"},
		{"en-GB;q=0.3, DE;q=0.7", "de"},
		{"fr, es", ""},
		{"de;q=abc, ru;q=0.1", "ru"},
		{"*", ""},
	} {
		if got := Match(c.header); got != c.want {
			t.Errorf("Match(%q) = %q, want %q", c.header, got, c.want)
		}
	}
}

func TestPluralAndFallback(t *testing.T) {
	c := &Catalog{Lang: "ru", texts: map[string]string{"h.one": "%d хост", "h.few": "%d хоста", "h.many": "%d хостов"}}
	for n, want := range map[int]string{1: "1 хост", 2: "2 хоста", 5: "5 хостов", 11: "11 хостов", 21: "21 хост", 22: "22 хоста", 112: "112 хостов"} {
		if got := c.Plural("h", n); got != want {
			t.Errorf("Plural(%d) = %q, want %q", n, got, want)
		}
	}
	e := &Catalog{Lang: "en", texts: map[string]string{"h.one": "%d host", "h.many": "%d hosts"}}
	if got := e.Plural("h", 1) + ", " + e.Plural("h", 3); got != "1 host, 3 hosts" {
		t.Errorf("English plurals: %q", got)
	}
	if got := For("de").T("no.such.key"); got != "[no.such.key]" {
		t.Errorf("a missing key gives %q", got)
	}
}
