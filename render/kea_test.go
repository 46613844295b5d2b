package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

// keaReservationRef is a Kea host reservation as plain Go data, for the
// reference encoding by encoding/json that the writer must match.
type keaReservationRef struct {
	HWAddress   string         `json:"hw-address"`
	IPAddress   string         `json:"ip-address,omitempty"`
	IPAddresses []string       `json:"ip-addresses,omitempty"`
	Hostname    string         `json:"hostname,omitempty"`
	UserContext *keaContextRef `json:"user-context,omitempty"`
}

type keaContextRef struct {
	Comment string `json:"comment,omitempty"`
	ID      int64  `json:"ipdesk-address-id,omitempty"`
}

// checkKeaCanonical requires that every reservation line of the Kea
// fragment out is exactly what encoding/json writes for the reservation
// the line holds: the writer appends the members itself and must not
// differ from encoding/json in any byte.
func checkKeaCanonical(out []byte) error {
	n := 0
	for _, line := range bytes.Split(out, []byte("\n")) {
		line = bytes.TrimLeft(line, " ")
		if !bytes.HasPrefix(line, []byte(`{"hw-address"`)) {
			continue
		}
		line = bytes.TrimSuffix(line, []byte(","))
		var r keaReservationRef
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			return fmt.Errorf("reservation %s: %v", line, err)
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(&r); err != nil {
			return err
		}
		if got := append(line, '\n'); !bytes.Equal(got, want.Bytes()) {
			return fmt.Errorf("reservation written as\n%s\nencoding/json writes\n%s", got, want.Bytes())
		}
		n++
	}
	if n == 0 && bytes.Contains(out, []byte("hw-address")) {
		return fmt.Errorf("no reservation line found in\n%s", out)
	}
	return nil
}

// TestKeaReservationsAsEncodingJSON checks the reservations of the hostile
// fixture and of a generated plan, in every Kea writer, against
// encoding/json.
func TestKeaReservationsAsEncodingJSON(t *testing.T) {
	for _, in := range []*Input{hostileInput(), generatedInput(600, false), generatedInput(600, true)} {
		for name, w := range map[string]func(*Input) ([]byte, error){
			"KeaDHCP4": KeaDHCP4, "KeaDHCP6": KeaDHCP6, "KeaReservations4": KeaReservations4, "KeaReservations6": KeaReservations6,
		} {
			out, err := w(in)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if err := checkKeaCanonical(out); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
}
