// Package importer reads and writes ipdesk's host lists: the hosts CSV and
// JSON formats that "ipdesk export hosts" writes and "ipdesk import hosts"
// reads back. It also reads the hosts of DHCP server configurations (ISC
// dhcpd, dnsmasq) and for_dhcp's access level lists, the way in for
// networks run by hand or by for_dhcp. Rows are turned into ipdesk.Address
// values; every problem is reported with its line number and nothing is
// stored here.
package importer

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"ipdesk"
)

// HostColumns are the columns of the hosts CSV, in order.
var HostColumns = []string{"space", "address", "status", "mac", "hostname", "description", "owner", "phone", "location", "access_level", "dhcp_reservation"}

// Host is one row of a host list: an address with its space and location
// given by name, so that a list moves between databases.
type Host struct {
	Space           string               `json:"space"`
	Address         netip.Addr           `json:"address"`
	Status          ipdesk.AddressStatus `json:"status"`
	MAC             ipdesk.MAC           `json:"mac"`
	Hostname        string               `json:"hostname"`
	Description     string               `json:"description"`
	Owner           string               `json:"owner"`
	Phone           string               `json:"phone"`
	Location        string               `json:"location"`
	AccessLevel     int                  `json:"access_level"`
	DHCPReservation bool                 `json:"dhcp_reservation"`
	// Line is the line of the input the host was read from (CSV, a DHCP
	// server's configuration), or its position in the list (JSON),
	// counting from 1.
	Line int `json:"-"`
	// File is the file the host was read from, when an import reads
	// several (a dhcpd.conf and the files it includes); "" otherwise.
	File string `json:"-"`
	// given tells which of the text fields the input set (see fieldSet);
	// MergeExisting keeps the stored value of the others.
	given fieldSet
}

// LineError is a problem with one input line.
type LineError struct {
	// File names the file when an import reads several; "" otherwise.
	File  string
	Line  int
	Field string
	Err   string
}

// Pos returns where the problem is: "file:line", "line N" when the error
// names no file, or the file alone when it is about the whole file.
func (e LineError) Pos() string {
	if e.File != "" && e.Line == 0 {
		return e.File
	}
	if e.File != "" {
		return fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	return fmt.Sprintf("line %d", e.Line)
}

func (e LineError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Pos(), e.Field, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Pos(), e.Err)
}

// ReadHostsCSV reads a hosts CSV with a header row naming the columns (any
// order; unknown columns are an error, missing ones are empty; "space" and
// "address" are required). It returns the good rows and a LineError for
// every bad one.
func ReadHostsCSV(r io.Reader) ([]Host, []LineError, error) {
	var hosts []Host
	problems, err := readCSV(r, HostColumns, []string{"space", "address"}, func(line int, get func(string) string) *LineError {
		h, lerr := parseHost(line, get)
		if lerr == nil {
			hosts = append(hosts, h)
		}
		return lerr
	})
	if err != nil {
		return nil, nil, err
	}
	return hosts, problems, nil
}

// parseHost converts the cells of one row.
func parseHost(line int, get func(string) string) (Host, *LineError) {
	bad := func(field, format string, args ...any) (Host, *LineError) {
		return Host{}, &LineError{Line: line, Field: field, Err: fmt.Sprintf(format, args...)}
	}
	h := Host{Line: line, Space: strings.TrimSpace(get("space")), Hostname: strings.TrimSpace(get("hostname")),
		Description: get("description"), Owner: get("owner"), Phone: strings.TrimSpace(get("phone")),
		Location: strings.TrimSpace(get("location")), Status: ipdesk.AddressStatus(strings.TrimSpace(get("status")))}
	if h.Space == "" {
		return bad("space", "space is empty")
	}
	a, err := ipdesk.ParseAddr("address", strings.TrimSpace(get("address")))
	if err != nil {
		return bad("address", "%s", ipdesk.ErrorMessage(err))
	}
	h.Address = a
	if m := strings.TrimSpace(get("mac")); m != "" {
		if h.MAC, err = ipdesk.ParseMAC(m); err != nil {
			return bad("mac", "%s", ipdesk.ErrorMessage(err))
		}
	}
	if v := strings.TrimSpace(get("access_level")); v != "" {
		if h.AccessLevel, err = strconv.Atoi(v); err != nil {
			return bad("access_level", "access_level %q is not a number", v)
		}
	}
	if v := strings.TrimSpace(get("dhcp_reservation")); v != "" {
		switch strings.ToLower(v) {
		case "1", "true", "yes", "y", "on":
			h.DHCPReservation = true
		case "0", "false", "no", "n", "off":
		default:
			return bad("dhcp_reservation", "dhcp_reservation %q is not yes/no, true/false or 1/0", v)
		}
	}
	return h, nil
}

// formulaStart are the first characters that make spreadsheets evaluate a
// cell (OWASP's list for CSV injection). Exported cells starting with
// them get a leading apostrophe, which the reader removes again, so a
// phone number "+49 30 …" or a description "-foo" comes back unchanged.
const formulaStart = "=@+-\t\r"

func escapeCell(s string) string {
	if s != "" && (strings.ContainsRune(formulaStart, rune(s[0])) || s[0] == '\'' && len(s) > 1 && strings.ContainsRune(formulaStart+"'", rune(s[1]))) {
		return "'" + s
	}
	return s
}

func unescapeCell(s string) string {
	if len(s) > 1 && s[0] == '\'' && strings.ContainsRune(formulaStart+"'", rune(s[1])) {
		return s[1:]
	}
	return s
}

// WriteHostsCSV writes hosts as CSV with a header row.
func WriteHostsCSV(w io.Writer, hosts []Host) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(HostColumns); err != nil {
		return err
	}
	for _, h := range hosts {
		rec := []string{h.Space, h.Address.String(), string(h.Status), h.MAC.String(), h.Hostname, h.Description,
			h.Owner, h.Phone, h.Location, strconv.Itoa(h.AccessLevel), strconv.FormatBool(h.DHCPReservation)}
		for i := range rec {
			rec[i] = escapeCell(rec[i])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteHostsJSON writes hosts as a JSON array.
func WriteHostsJSON(w io.Writer, hosts []Host) error {
	if hosts == nil {
		hosts = []Host{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(hosts)
}

// ReadHostsJSON reads a JSON array of hosts as WriteHostsJSON writes it.
func ReadHostsJSON(r io.Reader) ([]Host, []LineError, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var raw []json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, nil, fmt.Errorf("read JSON host list: %w", err)
	}
	var hosts []Host
	var problems []LineError
	for i, m := range raw {
		var h Host
		d := json.NewDecoder(strings.NewReader(string(m)))
		d.DisallowUnknownFields()
		if err := d.Decode(&h); err != nil {
			problems = append(problems, LineError{Line: i + 1, Err: ipdesk.ErrorMessage(err)})
			if ipdesk.ErrorCode(err) == ipdesk.EINTERNAL {
				problems[len(problems)-1].Err = err.Error()
			}
			continue
		}
		if strings.TrimSpace(h.Space) == "" {
			problems = append(problems, LineError{Line: i + 1, Field: "space", Err: "space is empty"})
			continue
		}
		if !h.Address.IsValid() {
			problems = append(problems, LineError{Line: i + 1, Field: "address", Err: "address is required"})
			continue
		}
		h.Line = i + 1
		hosts = append(hosts, h)
	}
	return hosts, problems, nil
}
