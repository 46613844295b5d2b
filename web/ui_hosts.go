package web

// The hosts page: one table of every address the user may see with its
// host fields, searched, filtered, sorted and paged in the database, its
// state kept in the URL. Scripts (static/hosts.js) search as one types,
// edit a cell in place through the JSON API and select rows for a bulk
// change of the access level.

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"ipdesk"
	"ipdesk/i18n"
	"ipdesk/importer"
)

// hostPages are the pages of the hosts area.
func (s *Server) hostPages() []pageRoute {
	return []pageRoute{
		{pattern: "GET /hosts", act: actRead, object: ipdesk.ObjectAddress, h: s.hostsPage},
		{pattern: "GET /hosts/rows", act: actRead, object: ipdesk.ObjectAddress, h: s.hostsRows},
		{pattern: "POST /hosts/bulk", act: actWrite, object: ipdesk.ObjectAddress, h: s.hostsBulk},
		{pattern: "GET /hosts/export.csv", act: actRead, object: ipdesk.ObjectAddress, h: s.hostsExportCSV},
		{pattern: "GET /hosts/export.json", act: actRead, object: ipdesk.ObjectAddress, h: s.hostsExportJSON},
		{pattern: "GET /hosts/new", act: actWrite, object: ipdesk.ObjectAddress, h: s.hostNewPage},
		{pattern: "POST /hosts/new", act: actWrite, object: ipdesk.ObjectAddress, h: s.hostCreate},
		{pattern: "GET /hosts/import", act: actWrite, object: ipdesk.ObjectAddress, h: s.hostsImportPage},
		{pattern: "POST /hosts/import", act: actWrite, object: ipdesk.ObjectAddress, h: s.hostsImport},
		{pattern: "GET /hosts/{id}", act: actRead, object: ipdesk.ObjectAddress, h: s.hostPage},
		{pattern: "POST /hosts/{id}", act: actWrite, object: ipdesk.ObjectAddress, h: s.hostUpdate},
		{pattern: "POST /hosts/{id}/delete", act: actWrite, object: ipdesk.ObjectAddress, h: s.hostDelete},
	}
}

// Limits of the hosts list.
const (
	hostsDefaultLimit = 50
	hostsMaxQuery     = 200 // characters of the search text
)

// hostsLimits are the page sizes offered.
var hostsLimits = []int{25, 50, 100, 200}

// addressStatuses are the statuses offered in forms, in order.
var addressStatuses = []ipdesk.AddressStatus{ipdesk.StatusActive, ipdesk.StatusReserved, ipdesk.StatusDeprecated}

// hostsView is the state of the hosts list as its URL keeps it: the
// search, the filters, the sort order and the page.
type hostsView struct {
	Q        string
	Space    string
	Prefix   string
	Location string
	Level    string
	DHCP     string
	Sort     string
	Offset   int
	Limit    int
}

// values returns the URL query of v, without the defaults.
func (v hostsView) values() url.Values {
	q := url.Values{}
	for _, kv := range [][2]string{{"q", v.Q}, {"space", v.Space}, {"prefix", v.Prefix}, {"location", v.Location},
		{"level", v.Level}, {"dhcp", v.DHCP}, {"sort", v.Sort}} {
		if kv[1] != "" {
			q.Set(kv[0], kv[1])
		}
	}
	if v.Offset > 0 {
		q.Set("offset", strconv.Itoa(v.Offset))
	}
	if v.Limit != hostsDefaultLimit {
		q.Set("limit", strconv.Itoa(v.Limit))
	}
	return q
}

// link returns the hosts page URL of v.
func (v hostsView) link() string {
	if q := v.values().Encode(); q != "" {
		return "/hosts?" + q
	}
	return "/hosts"
}

// hostsFilter reads the list state from a query and turns it into an
// address filter (without the user's scope). Bad values come back as
// errors of their fields; the other error is a fault of the store.
func (s *Server) hostsFilter(ctx context.Context, cat *i18n.Catalog, q url.Values) (hostsView, ipdesk.AddressFilter, fieldErrors, error) {
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	v := hostsView{Q: get("q"), Space: get("space"), Prefix: get("prefix"), Location: get("location"),
		Level: get("level"), DHCP: get("dhcp"), Sort: get("sort"), Limit: hostsDefaultLimit}
	fe := fieldErrors{}
	var f ipdesk.AddressFilter
	bad := func(err *ipdesk.Error) { fe[err.Field] = localError(cat, err) }
	switch {
	case !utf8.ValidString(v.Q):
		bad(ipdesk.FieldErrorf(ipdesk.EINVALID, "q", "the search text is not valid UTF-8"))
	case utf8.RuneCountInString(v.Q) > hostsMaxQuery:
		bad(ipdesk.FieldErrorf(ipdesk.EINVALID, "q", "the search text is %d characters long; at most %d are allowed", utf8.RuneCountInString(v.Q), hostsMaxQuery))
	default:
		f.Query = v.Q
	}
	whole := func(field, val string, max int64) *int64 {
		if val == "" {
			return nil
		}
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil || n < 0 || n > max {
			bad(ipdesk.FieldErrorf(ipdesk.EINVALID, field, "%s %q is not a whole number from 0 to %d", field, clipValue(val), max))
			return nil
		}
		return &n
	}
	f.SpaceID = whole("space", v.Space, 1<<62)
	f.LocationID = whole("location", v.Location, 1<<62)
	if n := whole("level", v.Level, ipdesk.MaxAccessLevel); n != nil {
		level := int(*n)
		f.AccessLevel = &level
	}
	switch v.DHCP {
	case "":
	case "yes", "no":
		on := v.DHCP == "yes"
		f.DHCP = &on
	default:
		bad(ipdesk.FieldErrorf(ipdesk.EINVALID, "dhcp", "dhcp %q is not yes or no", clipValue(v.DHCP)))
	}
	if v.Sort != "" && !slices.Contains(addressSorts(), v.Sort) {
		bad(ipdesk.FieldErrorf(ipdesk.EINVALID, "sort", "sort %q is not one of %s", clipValue(v.Sort), strings.Join(addressSorts(), ", ")))
	}
	f.Sort = v.Sort
	if n := whole("offset", get("offset"), 1<<30); n != nil {
		v.Offset = int(*n)
	}
	if n := whole("limit", get("limit"), int64(hostsLimits[len(hostsLimits)-1])); n != nil && *n > 0 {
		v.Limit = int(*n)
	}
	f.Page = ipdesk.Page{Offset: v.Offset, Limit: v.Limit}
	if v.Prefix != "" {
		// A subnet by id (links from other pages) or by CIDR (typed).
		if id, err := strconv.ParseInt(v.Prefix, 10, 64); err == nil {
			if err := s.authorize(ctx, actRead, object{Type: ipdesk.ObjectPrefix, ID: id}); err != nil {
				if ipdesk.ErrorCode(err) != ipdesk.ENOTFOUND {
					return v, f, fe, err
				}
				bad(ipdesk.FieldErrorf(ipdesk.EINVALID, "prefix", "subnet %d does not exist", id))
			} else if p, err := s.store.FindPrefixByID(ctx, id); err == nil {
				f.PrefixID, v.Prefix = &id, p.Prefix.String()
			} else if ipdesk.ErrorCode(err) == ipdesk.ENOTFOUND {
				bad(ipdesk.FieldErrorf(ipdesk.EINVALID, "prefix", "subnet %d does not exist", id))
			} else {
				return v, f, fe, err
			}
		} else if p, err := ipdesk.ParsePrefix("prefix", v.Prefix); err != nil {
			fe["prefix"] = localError(cat, err)
		} else {
			p = p.Masked()
			f.Within = &p
		}
	}
	return v, f, fe, nil
}

// hostsData is the data of the hosts page and of its rows fragment.
type hostsData struct {
	page
	View       hostsView
	Errors     fieldErrors
	Rows       []hostRow
	Total      int
	Spaces     []*ipdesk.Space
	Locations  []locOption
	Levels     []*ipdesk.AccessLevel
	Statuses   []ipdesk.AddressStatus
	Limits     []int
	MultiSpace bool
	// CanEditAny tells whether a row of this page may be edited (the bulk
	// form and the inline editors are shown); CanCreate whether the user
	// may create hosts anywhere.
	CanEditAny bool
	CanCreate  bool
	BulkError  string
}

// hostRow is one row of the hosts table.
type hostRow struct {
	*ipdesk.Address
	SpaceName string
	Location  string
	CanEdit   bool
}

// SortLink returns the link that sorts by col: ascending, or descending
// when the list is sorted by col already.
func (d *hostsData) SortLink(col string) string {
	v := d.View
	cur := v.Sort
	if cur == "" {
		cur = "address"
	}
	v.Sort, v.Offset = col, 0
	if cur == col {
		v.Sort = "-" + col
	}
	if v.Sort == "address" {
		v.Sort = ""
	}
	return v.link()
}

// AriaSort tells assistive technology how the list is sorted by col.
func (d *hostsData) AriaSort(col string) string {
	cur := d.View.Sort
	if cur == "" {
		cur = "address"
	}
	switch cur {
	case col:
		return "ascending"
	case "-" + col:
		return "descending"
	}
	return ""
}

// From and To are the positions of the first and last row shown.
func (d *hostsData) From() int {
	if len(d.Rows) == 0 {
		return 0
	}
	return d.View.Offset + 1
}

func (d *hostsData) To() int { return d.View.Offset + len(d.Rows) }

// PrevLink and NextLink page through the list; "" at its ends.
func (d *hostsData) PrevLink() string {
	if d.View.Offset == 0 {
		return ""
	}
	v := d.View
	v.Offset = max(0, v.Offset-v.Limit)
	return v.link()
}

func (d *hostsData) NextLink() string {
	if d.View.Offset+len(d.Rows) >= d.Total || len(d.Rows) == 0 {
		return ""
	}
	v := d.View
	v.Offset += v.Limit
	return v.link()
}

// ExportQuery is the query of the export links: the list's search and
// filters, every page.
func (d *hostsData) ExportQuery() string {
	v := d.View
	v.Offset, v.Limit = 0, hostsDefaultLimit
	if q := v.values().Encode(); q != "" {
		return "?" + q
	}
	return ""
}

// BackLink is the page's own link, for forms that come back to it.
func (d *hostsData) BackLink() string { return d.View.link() }

// hostsList builds the hosts page for a query.
func (s *Server) hostsList(ctx context.Context, cat *i18n.Catalog, q url.Values, pg page) (*hostsData, error) {
	d := &hostsData{page: pg, Limits: hostsLimits, Statuses: addressStatuses}
	perms, err := s.permissions(ctx)
	if err != nil {
		return nil, err
	}
	scope, err := s.scope(ctx, ipdesk.RightView)
	if err != nil {
		return nil, err
	}
	view, f, fe, err := s.hostsFilter(ctx, cat, q)
	if err != nil {
		return nil, err
	}
	d.View, d.Errors = view, fe
	if d.Spaces, _, err = s.store.FindSpaces(ctx, ipdesk.SpaceFilter{Scope: scope, Page: ipdesk.Page{Limit: ipdesk.MaxLimit}}); err != nil {
		return nil, err
	}
	d.MultiSpace = len(d.Spaces) > 1
	idx, err := s.visibleLocations(ctx)
	if err != nil {
		return nil, err
	}
	d.Locations = idx.options(nil)
	if d.Levels, err = s.store.FindAccessLevels(ctx); err != nil {
		return nil, err
	}
	d.CanCreate = !perms.ScopeFor(ipdesk.RightEdit).Empty()
	if len(fe) > 0 {
		return d, nil
	}
	f.Scope = scope
	addrs, n, err := s.store.FindAddresses(ctx, f)
	if err != nil {
		return nil, err
	}
	d.Total = n
	ids := make([]int64, 0, len(addrs))
	for _, a := range addrs {
		ids = append(ids, a.LocationID)
	}
	if err := s.completeLocations(ctx, idx, ids); err != nil {
		return nil, err
	}
	spaceNames := make(map[int64]string, len(d.Spaces))
	for _, sp := range d.Spaces {
		spaceNames[sp.ID] = sp.Name
	}
	d.Rows = make([]hostRow, len(addrs))
	for i, a := range addrs {
		d.Rows[i] = hostRow{Address: a, SpaceName: spaceNames[a.SpaceID], Location: idx.path(a.LocationID),
			CanEdit: perms.CanAddress(a.SpaceID, a.Addr, ipdesk.RightEdit)}
		d.CanEditAny = d.CanEditAny || d.Rows[i].CanEdit
	}
	return d, nil
}

func (s *Server) hostsPage(w http.ResponseWriter, r *http.Request) error {
	d, err := s.hostsList(r.Context(), s.catalog(r), r.URL.Query(), s.base(w, r, s.catalog(r).T("hosts.title"), "hosts"))
	if err != nil {
		return err
	}
	status := http.StatusOK
	if len(d.Errors) > 0 {
		status = http.StatusBadRequest
	}
	s.render(w, r, status, "hosts", d)
	return nil
}

// hostsRows answers the table alone, for the search as one types.
func (s *Server) hostsRows(w http.ResponseWriter, r *http.Request) error {
	d, err := s.hostsList(r.Context(), s.catalog(r), r.URL.Query(), s.fragmentPage(r))
	if err != nil {
		return err
	}
	status := http.StatusOK
	if len(d.Errors) > 0 {
		status = http.StatusBadRequest
	}
	s.renderTemplate(w, r, status, "hosts", "hosts-results", d)
	return nil
}

// fragmentPage is the page data of a fragment: like base, but it leaves
// the flash message for the next whole page.
func (s *Server) fragmentPage(r *http.Request) page {
	p := page{Lang: s.lang(r), Path: r.URL.RequestURI(), Query: r.URL.Query(), Outputs: s.outputs != nil}
	if st := authOf(r.Context()); st != nil {
		p.User = st.user
		p.Perms, _ = s.permissions(r.Context())
	}
	return p
}

// hostsBulk sets the access level of the selected hosts: each must be
// one the user may edit, and all change in one transaction or none.
func (s *Server) hostsBulk(w http.ResponseWriter, r *http.Request) error {
	if err := s.parseForm(w, r); err != nil {
		return err
	}
	ctx := r.Context()
	back, _ := url.Parse(localPath(r.PostFormValue("back")))
	if back == nil || back.Path != "/hosts" {
		back = &url.URL{Path: "/hosts"}
	}
	refs, level, err := bulkForm(r)
	if err == nil {
		for _, ref := range refs {
			if err := s.authorize(ctx, actWrite, object{Type: ipdesk.ObjectAddress, ID: ref.ID}); err != nil {
				return err
			}
		}
		_, err = s.store.UpdateAddresses(ctx, refs, ipdesk.AddressUpdate{AccessLevel: &level})
	}
	if err != nil {
		if !isFormError(err) {
			return err
		}
		d, lerr := s.hostsList(ctx, s.catalog(r), back.Query(), s.base(w, r, s.catalog(r).T("hosts.title"), "hosts"))
		if lerr != nil {
			return lerr
		}
		d.Path = back.String()
		d.BulkError = s.errorText(r, err)
		s.render(w, r, formStatus(err), "hosts", d)
		return nil
	}
	s.setFlash(w, r, "flash.hosts.bulk", strconv.Itoa(len(refs)))
	redirect(w, r, back.String())
	return nil
}

// bulkForm reads the selected rows ("id:version") and the new access
// level of the bulk form.
func bulkForm(r *http.Request) ([]ipdesk.AddressRef, int, error) {
	lv := formValue(r, "access_level")
	level, err := strconv.Atoi(lv)
	if err != nil || level < 0 || level > ipdesk.MaxAccessLevel {
		return nil, 0, ipdesk.FieldErrorf(ipdesk.EINVALID, "access_level", "access_level %q is not a level from 0 to %d", clipValue(lv), ipdesk.MaxAccessLevel)
	}
	sel := r.PostForm["sel"]
	if len(sel) == 0 {
		return nil, 0, ipdesk.FieldErrorf(ipdesk.EINVALID, "sel", "no hosts were selected; tick the hosts to change first")
	}
	if len(sel) > ipdesk.MaxBulk {
		return nil, 0, ipdesk.FieldErrorf(ipdesk.EINVALID, "sel", "%d hosts were selected; at most %d can be changed at once", len(sel), ipdesk.MaxBulk)
	}
	refs := make([]ipdesk.AddressRef, 0, len(sel))
	for _, v := range sel {
		id, ver, ok := strings.Cut(v, ":")
		n, err1 := strconv.ParseInt(id, 10, 64)
		m, err2 := strconv.ParseInt(ver, 10, 64)
		if !ok || err1 != nil || err2 != nil || n <= 0 || m <= 0 {
			return nil, 0, ipdesk.FieldErrorf(ipdesk.EINVALID, "sel", "selection %q is not a host id and version", clipValue(v))
		}
		refs = append(refs, ipdesk.AddressRef{ID: n, Version: m})
	}
	return refs, level, nil
}

func (s *Server) hostsExportCSV(w http.ResponseWriter, r *http.Request) error {
	return s.hostsExport(w, r, "csv")
}

func (s *Server) hostsExportJSON(w http.ResponseWriter, r *http.Request) error {
	return s.hostsExport(w, r, "json")
}

// hostsExport writes every host of the list (its search and filters, all
// pages) that the user may see, in the format "ipdesk import hosts" reads.
func (s *Server) hostsExport(w http.ResponseWriter, r *http.Request, format string) error {
	ctx := r.Context()
	_, f, fe, err := s.hostsFilter(ctx, s.catalog(r), r.URL.Query())
	if err != nil {
		return err
	}
	if err := fe.first(); err != nil {
		return err
	}
	if f.Scope, err = s.scope(ctx, ipdesk.RightView); err != nil {
		return err
	}
	hosts, err := importer.ExportHosts(ctx, s.store, f)
	if err != nil {
		return err
	}
	h := w.Header()
	name := "ipdesk-hosts-" + s.now().In(s.loc).Format("2006-01-02") + "." + format
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if format == "json" {
		h.Set("Content-Type", "application/json; charset=utf-8")
		return importer.WriteHostsJSON(w, hosts)
	}
	h.Set("Content-Type", "text/csv; charset=utf-8")
	return importer.WriteHostsCSV(w, hosts)
}

// first returns the error of the first field by name, or nil.
func (fe fieldErrors) first() error {
	if len(fe) == 0 {
		return nil
	}
	fields := make([]string, 0, len(fe))
	for f := range fe {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	return ipdesk.FieldErrorf(ipdesk.EINVALID, fields[0], "%s", fe[fields[0]])
}
