// Package i18n holds the user interface's texts in English, German and
// Russian and picks the language of a request. The texts live in JSON
// catalogues, one file per area of the UI and language under
// messages/LANG/, embedded in the binary; every language has the same keys,
// and a text's fmt verbs (%s, %d, …) are the same in every language, which
// the package's tests check.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Languages are the UI's languages; the first is the default.
var Languages = []string{"en", "de", "ru"}

// Names are the languages' names in themselves, for the language menu.
var Names = map[string]string{"en": "English", "de": "Deutsch", "ru": "Русский"}

//go:embed messages
var files embed.FS

// Catalog is the texts of one language, by key.
type Catalog struct {
	Lang  string
	texts map[string]string
	// errors translates the server's error messages: the key is the
	// message's English format (ipdesk.Error.Format), the value the same
	// message in this language with the same fmt verbs. English needs none.
	errors map[string]string
}

var catalogs = mustLoad(files)

// mustLoad reads every language's catalogue files.
func mustLoad(fsys fs.FS) map[string]*Catalog {
	out, err := load(fsys)
	if err != nil {
		panic(err)
	}
	return out
}

// load reads messages/LANG/*.json for each language; a key given twice is
// an error.
func load(fsys fs.FS) (map[string]*Catalog, error) {
	out := map[string]*Catalog{}
	for _, lang := range Languages {
		c := &Catalog{Lang: lang, texts: map[string]string{}, errors: map[string]string{}}
		names, err := fs.Glob(fsys, path.Join("messages", lang, "*.json"))
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			b, err := fs.ReadFile(fsys, n)
			if err != nil {
				return nil, err
			}
			var m map[string]string
			if err := json.Unmarshal(b, &m); err != nil {
				return nil, fmt.Errorf("i18n: %s: %w", n, err)
			}
			dst := c.texts
			if path.Base(n) == errorsFile {
				dst = c.errors
			}
			for k, v := range m {
				if _, dup := dst[k]; dup {
					return nil, fmt.Errorf("i18n: %s: key %q is defined twice", n, k)
				}
				dst[k] = v
			}
		}
		out[lang] = c
	}
	return out, nil
}

// errorsFile is the name of each language's catalogue of error messages.
const errorsFile = "errors.json"

// For returns the catalogue of lang, or the default language's.
func For(lang string) *Catalog {
	if c := catalogs[lang]; c != nil {
		return c
	}
	return catalogs[Languages[0]]
}

// Has reports whether the catalogue has a text for key.
func (c *Catalog) Has(key string) bool {
	_, ok := c.texts[key]
	return ok
}

// T returns the text of key, formatted with args like fmt.Sprintf. A
// missing key gives the key itself in brackets, so that it shows.
func (c *Catalog) T(key string, args ...any) string {
	s, ok := c.texts[key]
	if !ok {
		if en := catalogs[Languages[0]]; en != nil && c != en {
			return en.T(key, args...)
		}
		return "[" + key + "]"
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// Errorf returns the error message of format in the catalogue's language,
// formatted with args; a format without a translation is used as it is.
func (c *Catalog) Errorf(format string, args ...any) string {
	if s, ok := c.errors[format]; ok {
		format = s
	}
	return fmt.Sprintf(format, args...)
}

// HasError reports whether the catalogue translates the error message
// format.
func (c *Catalog) HasError(format string) bool {
	_, ok := c.errors[format]
	return ok
}

// ErrorFormats returns the error message formats the catalogue
// translates, sorted.
func (c *Catalog) ErrorFormats() []string {
	keys := make([]string, 0, len(c.errors))
	for k := range c.errors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Keys returns every key of the catalogue, sorted.
func (c *Catalog) Keys() []string {
	keys := make([]string, 0, len(c.texts))
	for k := range c.texts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Plural returns the text of key.one, key.few or key.many for n, by the
// plural rules of the language (Russian has three forms), formatted with
// n and args.
func (c *Catalog) Plural(key string, n int, args ...any) string {
	form := "many"
	switch c.Lang {
	case "ru":
		m10, m100 := n%10, n%100
		switch {
		case m10 == 1 && m100 != 11:
			form = "one"
		case m10 >= 2 && m10 <= 4 && (m100 < 12 || m100 > 14):
			form = "few"
		}
	default:
		if n == 1 {
			form = "one"
		}
	}
	k := key + "." + form
	if !c.Has(k) && form == "few" {
		k = key + ".many"
	}
	return c.T(k, append([]any{n}, args...)...)
}

// Match returns the best of Languages for an Accept-Language header, or
// "" when it names none of them.
func Match(acceptLanguage string) string {
	best, bestQ := "", 0.0
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		for _, l := range Languages {
			if l == primary && q > bestQ {
				best, bestQ = l, q
			}
		}
	}
	return best
}

// Supported reports whether lang is one of Languages.
func Supported(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}
