package web

import (
	"net/http"
	"net/netip"
	"net/url"

	"ipdesk"
)

// claimForm is what the form that claims a free address of a subnet
// holds, as typed.
type claimForm struct {
	Address, Hostname, MAC, Owner, Description, Status string
	DHCPReservation                                    bool
}

// claimFormFields are the fields of the claim form, for placing errors.
var claimFormFields = []string{"address", "hostname", "mac", "owner", "description", "status", "dhcp_reservation"}

func readClaimForm(r *http.Request) claimForm {
	return claimForm{
		Address:         formValue(r, "address"),
		Hostname:        formValue(r, "hostname"),
		MAC:             formValue(r, "mac"),
		Owner:           formValue(r, "owner"),
		Description:     formValue(r, "description"),
		Status:          formValue(r, "status"),
		DHCPReservation: checkbox(r, "dhcp_reservation"),
	}
}

// host parses the form's host fields into a new address record.
func (f claimForm) host() (*ipdesk.Address, error) {
	a := &ipdesk.Address{Hostname: f.Hostname, Owner: f.Owner, Description: f.Description,
		Status: ipdesk.AddressStatus(f.Status), DHCPReservation: f.DHCPReservation}
	if f.MAC != "" {
		m, err := ipdesk.ParseMAC(f.MAC)
		if err != nil {
			return nil, err
		}
		a.MAC = m
	}
	return a, nil
}

// addressClaim stores a host at a free address of a subnet: the one the
// form names, or with "first" the subnet's first free one.
func (s *Server) addressClaim(w http.ResponseWriter, r *http.Request) error {
	// A right on a subnet covers all its addresses (no prefix lies inside
	// a subnet to carry a narrower one), so edit on the subnet decides.
	p, err := s.postedPrefix(w, r, ipdesk.PrefixSubnet)
	if err != nil {
		return err
	}
	ctx := r.Context()
	f := readClaimForm(r)
	first := r.PostFormValue("first") != ""
	a, err := f.host()
	if err == nil {
		a.SpaceID, a.PrefixID = p.SpaceID, p.ID
		if first {
			_, err = s.store.AllocateAddress(ctx, p.ID, netip.Addr{}, a)
		} else {
			err = claimAt(a, p, f.Address)
			if err == nil {
				_, err = s.store.CreateAddress(ctx, a)
			}
		}
	}
	if err == nil {
		s.setFlash(w, r, "flash.plan_claimed", a.Addr.String())
		redirect(w, r, prefixLink(p.ID)+"?"+url.Values{"at": {a.Addr.String()}}.Encode())
		return nil
	}
	if !isFormError(err) {
		return err
	}
	d, derr := s.prefixData(w, r, p, f.Address)
	if derr != nil {
		return derr
	}
	d.Claim = f
	d.ClaimErrors, d.ClaimError = planFormErrors(s.catalog(r), err, claimFormFields...)
	s.render(w, r, formStatus(err), "prefix", d)
	return nil
}

// claimAt sets the address of a to the typed one, which must lie in
// subnet p.
func claimAt(a *ipdesk.Address, p *ipdesk.Prefix, typed string) error {
	if typed == "" {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, "address", "address is required: click a free cell of the grid, or type an address of %s", p.Prefix)
	}
	addr, err := ipdesk.ParseAddr("address", typed)
	if err != nil {
		return err
	}
	if !p.Prefix.Contains(addr) {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, "address", "address %s is not inside %s", addr, p.Prefix)
	}
	a.Addr = addr
	return nil
}
