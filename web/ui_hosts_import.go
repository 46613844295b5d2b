package web

// The import of a host list (the CSV or JSON that the export and "ipdesk
// export hosts" write): the upload is checked in full and every row shown
// with its problems before anything is written; "import" then writes all
// rows in one transaction, or none.

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"ipdesk"
	"ipdesk/i18n"
	"ipdesk/importer"
)

// maxImportBytes bounds an uploaded host list (some 20,000 rows).
const maxImportBytes = 2 << 20

// importData is the data of the import page.
type importData struct {
	page
	// Error is about the upload as a whole (too large, not a host list).
	Error string
	// Checked tells that a file was read; Rows and Report are its check.
	Checked  bool
	Rows     []importRow
	Report   importer.Report
	FileName string
	// Format and Data carry the checked file to the import step.
	Format string
	Data   string
}

// importRow is one line of the file as the preview shows it: its host
// (nil when the line could not be read) and its problems and warnings.
type importRow struct {
	Line     int
	Host     *importer.Host
	Problems []importer.LineError
	Warnings []importer.LineError
}

// CanImport tells whether the checked file may be imported.
func (d *importData) CanImport() bool {
	return d.Checked && len(d.Report.Problems) == 0 && d.Report.Rows > 0
}

func (s *Server) hostsImportPage(w http.ResponseWriter, r *http.Request) error {
	if err := s.mayImport(r); err != nil {
		return err
	}
	d := &importData{page: s.base(w, r, s.catalog(r).T("hosts.import_title"), "hosts")}
	s.render(w, r, http.StatusOK, "hosts_import", d)
	return nil
}

// hostsImport checks an uploaded host list (a dry run) and shows every
// row with its problems; with commit=1 it imports the list carried over
// from the check, all rows or, if one fails now, none.
func (s *Server) hostsImport(w http.ResponseWriter, r *http.Request) error {
	if err := s.mayImport(r); err != nil {
		return err
	}
	d := &importData{page: s.base(w, r, s.catalog(r).T("hosts.import_title"), "hosts")}
	data, format, name, commit, err := s.readImport(w, r)
	if err != nil {
		status, msg, shown := uploadFailure(s.catalog(r), err)
		if !shown {
			return err
		}
		d.Error = msg
		s.render(w, r, status, "hosts_import", d)
		return nil
	}
	d.FileName, d.Format, d.Data = name, format, string(data)
	var hosts []importer.Host
	var problems []importer.LineError
	if format == "json" {
		hosts, problems, err = importer.ReadHostsJSON(bytes.NewReader(data))
	} else {
		hosts, problems, err = importer.ReadHostsCSV(bytes.NewReader(data))
	}
	if err != nil {
		// The file as a whole is not a host list (a bad header row, not
		// JSON): the reader's message says why.
		d.Error = err.Error()
		s.render(w, r, http.StatusBadRequest, "hosts_import", d)
		return nil
	}
	allow, err := s.importRights(r)
	if err != nil {
		return err
	}
	rep, err := importer.Import(r.Context(), s.store, importer.Batch{Hosts: hosts, Problems: problems, DryRun: !commit, Allow: allow,
		WarningText: func(w ipdesk.Warning) string { return s.visibleWarnings(r, []ipdesk.Warning{w})[0].Message }})
	if err != nil {
		return err
	}
	if commit && len(rep.Problems) == 0 {
		s.setFlash(w, r, "flash.hosts.imported", strconv.Itoa(rep.Rows))
		redirect(w, r, "/hosts")
		return nil
	}
	d.Checked, d.Report, d.Rows = true, rep, importRows(hosts, rep)
	status := http.StatusOK
	if len(rep.Problems) > 0 {
		status = http.StatusBadRequest
	}
	s.render(w, r, status, "hosts_import", d)
	return nil
}

// readImport reads the upload of a host list (csv or json); see
// readUpload.
func (s *Server) readImport(w http.ResponseWriter, r *http.Request) ([]byte, string, string, bool, error) {
	return s.readUpload(w, r, func(name string) string {
		if strings.EqualFold(filepath.Ext(name), ".json") {
			return "json"
		}
		return "csv"
	}, "csv", "json")
}

// uploadFailure tells how an upload that readUpload refused is shown:
// with its message and status on the import page, or (false) as an
// error page.
func uploadFailure(cat *i18n.Catalog, err error) (status int, msg string, shown bool) {
	if !isFormError(err) && ipdesk.ErrorCode(err) != eTooLarge {
		return 0, "", false
	}
	return errorStatus(ipdesk.ErrorCode(err)), localError(cat, err), true
}

// readUpload reads the upload of an import: the file of the first step,
// or the text the check carried over (with commit) to the second. It
// returns the text, its format (formatOf the file's name, one of
// formats), the file's name and the commit flag.
func (s *Server) readUpload(w http.ResponseWriter, r *http.Request, formatOf func(name string) string, formats ...string) ([]byte, string, string, bool, error) {
	tooLarge := ipdesk.Errorf(eTooLarge, "the file is larger than %d MiB; split it into smaller files", maxImportBytes>>20)
	r.Body = http.MaxBytesReader(w, r.Body, maxImportBytes+64<<10)
	if err := r.ParseMultipartForm(maxImportBytes + 64<<10); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, "", "", false, tooLarge
		}
		return nil, "", "", false, ipdesk.FieldErrorf(ipdesk.EINVALID, "file", "the upload could not be read: %v", err)
	}
	defer r.MultipartForm.RemoveAll()
	commit := r.PostFormValue("commit") == "1"
	var data []byte
	format, name := r.PostFormValue("format"), r.PostFormValue("name") // carried over by the check
	if commit {
		data = []byte(r.PostFormValue("data"))
	} else {
		f, hdr, err := r.FormFile("file")
		if err != nil {
			return nil, "", "", false, ipdesk.FieldErrorf(ipdesk.EINVALID, "file", "choose a file to check")
		}
		defer f.Close()
		if data, err = io.ReadAll(io.LimitReader(f, maxImportBytes+1)); err != nil {
			return nil, "", "", false, err
		}
		name = hdr.Filename
		format = formatOf(name)
	}
	switch {
	case len(data) > maxImportBytes:
		return nil, "", "", false, tooLarge
	case !slices.Contains(formats, format):
		return nil, "", "", false, ipdesk.FieldErrorf(ipdesk.EINVALID, "format", "format %q is not %s", clipValue(format), strings.Join(formats, " or "))
	case !utf8.Valid(data):
		return nil, "", "", false, ipdesk.FieldErrorf(ipdesk.EINVALID, "file", "the file is not UTF-8 text; save it as UTF-8 (CSV UTF-8) and try again")
	case len(bytes.TrimSpace(data)) == 0:
		return nil, "", "", false, ipdesk.FieldErrorf(ipdesk.EINVALID, "file", "the file is empty")
	}
	return data, format, clipValue(name), commit, nil
}

// importRights returns the check of each row against the user's rights:
// a row may only create or change a host where the user may edit, in a
// room the user may see. Spaces and rooms the user may not see get the
// same answer as ones that do not exist.
func (s *Server) importRights(r *http.Request) (func(importer.Host, *ipdesk.Address) error, error) {
	ctx := r.Context()
	perms, err := s.permissions(ctx)
	if err != nil {
		return nil, err
	}
	rooms, err := s.visibleLocations(ctx)
	if err != nil {
		return nil, err
	}
	return func(h importer.Host, a *ipdesk.Address) error {
		switch {
		case !perms.KnowsSpace(a.SpaceID):
			return ipdesk.FieldErrorf(ipdesk.EINVALID, "space", "space %q does not exist", h.Space)
		case !perms.CanAddress(a.SpaceID, a.Addr, ipdesk.RightEdit):
			return ipdesk.FieldErrorf(ipdesk.EFORBIDDEN, "address", "user %q may not change address %s in space %q", ipdesk.ActorName(ctx), a.Addr, h.Space)
		case a.LocationID != 0 && rooms[a.LocationID] == nil:
			return ipdesk.FieldErrorf(ipdesk.EINVALID, "location", "location %q does not exist (write the path as Site%sBuilding%sRoom)", h.Location, importer.PathSeparator, importer.PathSeparator)
		}
		return nil
	}, nil
}

// importRows lines up the hosts of a check with its problems and
// warnings, by line; lines that could not be read have no host.
func importRows(hosts []importer.Host, rep importer.Report) []importRow {
	byLine := map[int]*importRow{}
	var rows []*importRow
	row := func(line int) *importRow {
		if x := byLine[line]; x != nil {
			return x
		}
		x := &importRow{Line: line}
		byLine[line] = x
		rows = append(rows, x)
		return x
	}
	for i := range hosts {
		row(hosts[i].Line).Host = &hosts[i]
	}
	for _, p := range rep.Problems {
		x := row(p.Line)
		x.Problems = append(x.Problems, p)
	}
	for _, w := range rep.Warnings {
		x := row(w.Line)
		x.Warnings = append(x.Warnings, w)
	}
	slices.SortStableFunc(rows, func(a, b *importRow) int { return a.Line - b.Line })
	out := make([]importRow, len(rows))
	for i, x := range rows {
		out[i] = *x
	}
	return out
}
