package web

import (
	"math/bits"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"

	"ipdesk"
	"ipdesk/i18n"
	"ipdesk/ipam"
)

// prefixData is the data of a prefix's page.
type prefixData struct {
	page
	Space  *ipdesk.Space
	Prefix *ipdesk.Prefix
	Node   *planNode
	// Ancestors are the visible prefixes that contain this one,
	// outermost first.
	Ancestors []*ipdesk.Prefix
	CanEdit   bool

	// Containers: children, free space, and the form that gives out the
	// next free child.
	Children    []*planNode
	ChildPager  planPager
	Available   []netip.Prefix
	AvailPager  planPager
	Alloc       prefixForm
	AllocErrors fieldErrors
	AllocError  string

	// Subnets: the grid of one block, the stored addresses, and the claim
	// form.
	Grid        *planGrid
	Used        []*ipdesk.Address
	UsedFirst   string // links through the stored addresses
	UsedNext    string
	Claim       claimForm
	ClaimErrors fieldErrors
	ClaimError  string
	ClaimFocus  bool

	Free      []planRange
	FreePager planPager
}

// planRange is a free range of a prefix.
type planRange struct {
	From, To netip.Addr
	Size     uint64 // saturated at 2^64-1
}

// Count is the size for a plural text, when Huge is false.
func (r planRange) Count() int { return int(min(r.Size, 1<<31-1)) }

// Huge tells whether the size is shown as a power of two.
func (r planRange) Huge() bool { return r.Size > 1<<20 }

// Pow is the size as a power of two, to the nearest (2^64-1, the
// saturated size of a /64, gives 64).
func (r planRange) Pow() int {
	n := bits.Len64(r.Size) - 1
	if n > 0 && r.Size&(1<<(n-1)) != 0 {
		n++
	}
	return n
}

// IsSubnet tells the template which kind of page to show.
func (d *prefixData) IsSubnet() bool { return d.Prefix.Kind == ipdesk.PrefixSubnet }

// Page sizes of the prefix page's lists.
const (
	childPageSize = 100
	availPageSize = 32
	freePageSize  = 32
	usedPageSize  = 50
)

// prefixLink returns the path of a prefix's page.
func prefixLink(id int64) string { return "/prefixes/" + strconv.FormatInt(id, 10) }

// prefixOfPath returns the prefix of the request's path after checking
// that the user may do act to it.
func (s *Server) prefixOfPath(r *http.Request, act action) (*ipdesk.Prefix, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	if err := s.authorize(r.Context(), act, object{Type: ipdesk.ObjectPrefix, ID: id}); err != nil {
		return nil, err
	}
	return s.store.FindPrefixByID(r.Context(), id)
}

// postedPrefix reads the form posted to a prefix's address and returns
// the prefix, which the user must be allowed to change and which must be
// of kind (any kind for "").
func (s *Server) postedPrefix(w http.ResponseWriter, r *http.Request, kind ipdesk.PrefixKind) (*ipdesk.Prefix, error) {
	if err := s.parseForm(w, r); err != nil {
		return nil, err
	}
	p, err := s.prefixOfPath(r, actWrite)
	if err != nil {
		return nil, err
	}
	switch {
	case kind == ipdesk.PrefixSubnet && p.Kind != kind:
		return nil, ipdesk.Errorf(ipdesk.EINVALID, "prefix %s is a container; addresses live in subnets", p.Prefix)
	case kind == ipdesk.PrefixContainer && p.Kind != kind:
		return nil, ipdesk.Errorf(ipdesk.EINVALID, "prefix %s is a subnet; only containers give out child prefixes", p.Prefix)
	}
	return p, nil
}

func (s *Server) prefixPage(w http.ResponseWriter, r *http.Request) error {
	p, err := s.prefixOfPath(r, actRead)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	claim := claimForm{Status: string(ipdesk.StatusActive)}
	if a, ok := addrOf(q.Get("claim")); ok && p.Prefix.Contains(a) {
		claim.Address = a.String()
	}
	d, err := s.prefixData(w, r, p, claim.Address)
	if err != nil {
		return err
	}
	d.Claim = claim
	// Without scripts a free cell's link brings the browser here: the
	// hostname is what to type next.
	d.ClaimFocus = claim.Address != ""
	status := http.StatusOK
	if d.Grid != nil && d.Grid.JumpErr != "" {
		status = http.StatusBadRequest
	}
	s.render(w, r, status, "prefix", d)
	return nil
}

// prefixData reads what the page of prefix p shows. For a subnet, the
// grid shows the block of the query's "at" address, else of focus, else
// the first.
func (s *Server) prefixData(w http.ResponseWriter, r *http.Request, p *ipdesk.Prefix, focus string) (*prefixData, error) {
	ctx := r.Context()
	sp, err := s.store.FindSpaceByID(ctx, p.SpaceID)
	if err != nil {
		return nil, err
	}
	perms, err := s.permissions(ctx)
	if err != nil {
		return nil, err
	}
	d := &prefixData{page: s.base(w, r, p.Prefix.String(), "plan"), Space: sp, Prefix: p,
		AllocErrors: fieldErrors{}, ClaimErrors: fieldErrors{}}
	d.Path = pageBack(r, prefixLink(p.ID))
	d.CanEdit = perms.CanPrefix(p.SpaceID, p.Prefix, ipdesk.RightEdit)
	if p.ParentID != 0 {
		if d.Ancestors, err = s.visibleAncestors(r, p); err != nil {
			return nil, err
		}
	}
	q := d.Query
	scope, err := s.scope(ctx, ipdesk.RightView)
	if err != nil {
		return nil, err
	}
	ids := []int64{p.ID}
	if p.Kind == ipdesk.PrefixContainer {
		offset := queryOffset(r, "co")
		children, n, err := s.store.FindPrefixes(ctx, ipdesk.PrefixFilter{SpaceID: &p.SpaceID, ParentID: &p.ID, Scope: scope,
			Page: ipdesk.Page{Offset: offset, Limit: childPageSize}})
		if err != nil {
			return nil, err
		}
		d.ChildPager = newPlanPager(prefixLink(p.ID), q, "co", offset, childPageSize, len(children), n)
		for _, c := range children {
			d.Children = append(d.Children, &planNode{Prefix: c, CanEdit: perms.CanPrefix(c.SpaceID, c.Prefix, ipdesk.RightEdit)})
			ids = append(ids, c.ID)
		}
		ao := queryOffset(r, "ao")
		if d.Available, err = s.store.AvailablePrefixes(ctx, p.ID, ipdesk.Page{Offset: ao, Limit: availPageSize}); err != nil {
			return nil, err
		}
		d.AvailPager = newPlanPager(prefixLink(p.ID), q, "ao", ao, availPageSize, len(d.Available), -1)
		d.Alloc = prefixForm{Kind: string(ipdesk.PrefixSubnet), Bits: strconv.Itoa(defaultChildBits(p.Prefix))}
	}
	usage, err := s.store.PrefixUsages(ctx, ids)
	if err != nil {
		return nil, err
	}
	d.Node = &planNode{Prefix: p, Usage: usage[p.ID], CanEdit: d.CanEdit}
	for _, c := range d.Children {
		c.Usage = usage[c.Prefix.ID]
	}
	fo := queryOffset(r, "fo")
	ranges, err := s.store.FreeRanges(ctx, p.ID, ipdesk.Page{Offset: fo, Limit: freePageSize})
	if err != nil {
		return nil, err
	}
	for _, rg := range ranges {
		d.Free = append(d.Free, planRange{From: rg.From, To: rg.To, Size: ipam.RangeSize(rg.From, rg.To)})
	}
	d.FreePager = newPlanPager(prefixLink(p.ID), q, "fo", fo, freePageSize, len(d.Free), -1)
	if p.Kind == ipdesk.PrefixSubnet {
		if err := s.subnetGrid(r, d, focus); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// subnetGrid fills in the grid of a subnet's page: one block of
// addresses (one range query), the block map around it and, for subnets
// of several blocks, one page of the stored addresses.
func (s *Server) subnetGrid(r *http.Request, d *prefixData, focus string) error {
	ctx := r.Context()
	p := d.Prefix
	q := d.Query
	cat := s.catalog(r)
	var at netip.Addr
	jump := q.Get("at")
	if jump != "" {
		a, err := ipdesk.ParseAddr("at", jump)
		switch {
		case err != nil:
			jump = cat.T("plan.grid.jump_bad", clipValue(jump))
		case !p.Prefix.Contains(a):
			jump = cat.T("plan.grid.jump_outside", a.String(), p.Prefix.String())
		default:
			at, jump = a, ""
		}
	} else if a, ok := addrOf(focus); ok {
		at = a
	}
	block := gridBlock(p.Prefix, at)
	recs, _, err := s.store.FindAddresses(ctx, ipdesk.AddressFilter{PrefixID: &p.ID, Within: &block, Page: ipdesk.Page{Limit: ipdesk.BlockSize}})
	if err != nil {
		return err
	}
	base := prefixLink(p.ID)
	link := func(b netip.Prefix) string {
		return base + queryWith(withoutPaging(q), "at", b.Addr().String(), "claim", "")
	}
	var claim func(netip.Addr) string
	if d.CanEdit {
		claim = func(a netip.Addr) string {
			return base + queryWith(withoutPaging(q), "at", block.Addr().String(), "claim", a.String()) + "#claim"
		}
	}
	g := buildGrid(cat, p, block, recs, claim, link)
	g.JumpValue = q.Get("at")
	g.JumpErr = jump
	d.Grid = g
	if !g.Multi {
		return nil
	}
	win := mapWindow(p.Prefix, block)
	uses, err := s.store.BlockUsage(ctx, p.ID, win, ipdesk.Page{Limit: 1 << (mapBits - blockBits)})
	if err != nil {
		return err
	}
	g.Map = buildMap(cat, p, win, block, uses, link)
	g.MapWindow = win
	g.MapColumns = min(gridColumns, len(g.Map))
	if win != p.Prefix.Masked() {
		if b, ok := neighbour(p.Prefix, win, -1); ok {
			g.MapPrev = link(netip.PrefixFrom(b.Addr(), block.Bits()))
		}
		if b, ok := neighbour(p.Prefix, win, +1); ok {
			g.MapNext = link(netip.PrefixFrom(b.Addr(), block.Bits()))
		}
	}
	// The stored addresses, walked from an address on: a page costs the
	// same at the end of a large subnet as at its start.
	from, _ := addrOf(q.Get("uf"))
	used, err := s.store.SubnetAddresses(ctx, p.ID, from, usedPageSize)
	if err != nil {
		return err
	}
	d.Used = used
	if from.IsValid() {
		d.UsedFirst = base + queryWith(q, "uf", "")
	}
	if len(used) == usedPageSize {
		if next := used[len(used)-1].Addr.Next(); next.IsValid() {
			d.UsedNext = base + queryWith(q, "uf", next.String())
		}
	}
	return nil
}

// withoutPaging returns the query q without the grid's own parameters
// and the position in the list of stored addresses, for links to another
// block.
func withoutPaging(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		if k != "at" && k != "claim" && k != "uf" {
			out[k] = v
		}
	}
	return out
}

// defaultChildBits suggests the length of the next child of a container:
// a /24 in IPv4 and a /64 in IPv6 where they fit, else one bit longer.
func defaultChildBits(p netip.Prefix) int {
	want := 24
	if !p.Addr().Is4() {
		want = 64
	}
	if p.Bits() < want {
		return want
	}
	return min(p.Bits()+1, p.Addr().BitLen())
}

// prefixAllocate takes the next free child of the requested length in a
// container.
func (s *Server) prefixAllocate(w http.ResponseWriter, r *http.Request) error {
	p, err := s.postedPrefix(w, r, ipdesk.PrefixContainer)
	if err != nil {
		return err
	}
	f := readPrefixForm(r)
	tmpl := &ipdesk.Prefix{}
	var warnings []ipdesk.Warning
	err = f.fields(tmpl)
	var bits *int64
	if err == nil {
		bits, err = optionalInt("prefix_length", f.Bits)
	}
	if err == nil && bits == nil {
		err = ipdesk.FieldErrorf(ipdesk.EINVALID, "prefix_length", "prefix_length is required: the length of the new prefix, for example 24")
	}
	if err == nil && (*bits < 0 || *bits > 128) {
		err = ipdesk.FieldErrorf(ipdesk.EINVALID, "prefix_length", "prefix_length %d does not fit inside %s (use %d..%d)", *bits, p.Prefix, p.Prefix.Bits()+1, p.Prefix.Addr().BitLen())
	}
	if err == nil {
		warnings, err = s.store.AllocatePrefix(r.Context(), p.ID, int(*bits), tmpl)
	}
	if err == nil {
		s.createdFlash(w, r, tmpl.Prefix.String(), warnings)
		redirect(w, r, prefixLink(tmpl.ID))
		return nil
	}
	if !isFormError(err) {
		return err
	}
	d, derr := s.prefixData(w, r, p, "")
	if derr != nil {
		return derr
	}
	d.Alloc = f
	d.AllocErrors, d.AllocError = planFormErrors(s.catalog(r), err, prefixFormFields...)
	s.render(w, r, formStatus(err), "prefix", d)
	return nil
}

// prefixEditData is the data of a prefix's edit page.
type prefixEditData struct {
	page
	Space       *ipdesk.Space
	Prefix      *ipdesk.Prefix
	Form        prefixForm
	Errors      fieldErrors
	FormError   string
	Cascade     bool
	DeleteError string
}

// prefixEditForm is the form of a stored prefix.
func prefixEditForm(p *ipdesk.Prefix) prefixForm {
	f := prefixForm{Prefix: p.Prefix.String(), Kind: string(p.Kind), Description: p.Description, DHCP: p.DHCP,
		Version: strconv.FormatInt(p.Version, 10)}
	if p.Gateway.IsValid() {
		f.Gateway = p.Gateway.String()
	}
	if p.VLAN != 0 {
		f.VLAN = strconv.Itoa(p.VLAN)
	}
	return f
}

func (s *Server) prefixEditData(w http.ResponseWriter, r *http.Request, p *ipdesk.Prefix) (*prefixEditData, error) {
	sp, err := s.store.FindSpaceByID(r.Context(), p.SpaceID)
	if err != nil {
		return nil, err
	}
	d := &prefixEditData{page: s.base(w, r, s.catalog(r).T("plan.prefix.edit_title", p.Prefix.String()), "plan"),
		Space: sp, Prefix: p, Form: prefixEditForm(p), Errors: fieldErrors{}}
	d.Path = pageBack(r, prefixLink(p.ID)+"/edit")
	return d, nil
}

func (s *Server) prefixEditPage(w http.ResponseWriter, r *http.Request) error {
	p, err := s.prefixOfPath(r, actWrite)
	if err != nil {
		return err
	}
	d, err := s.prefixEditData(w, r, p)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "prefix-edit", d)
	return nil
}

func (s *Server) prefixUpdate(w http.ResponseWriter, r *http.Request) error {
	p, err := s.postedPrefix(w, r, "")
	if err != nil {
		return err
	}
	f := readPrefixForm(r)
	var parsed ipdesk.Prefix
	err = f.fields(&parsed)
	upd := ipdesk.PrefixUpdate{Description: &parsed.Description, Gateway: &parsed.Gateway, DHCP: &parsed.DHCP, VLAN: &parsed.VLAN}
	if f.Kind != "" {
		upd.Kind = &parsed.Kind
	}
	if err == nil {
		upd.Version, err = optionalInt("version", f.Version)
	}
	if err == nil {
		_, err = s.store.UpdatePrefix(r.Context(), p.ID, upd)
	}
	if err == nil {
		s.setFlash(w, r, "flash.saved", "")
		redirect(w, r, prefixLink(p.ID))
		return nil
	}
	if !isFormError(err) {
		return err
	}
	d, derr := s.prefixEditData(w, r, p)
	if derr != nil {
		return derr
	}
	version := d.Form.Version
	f.Prefix = p.Prefix.String()
	d.Form = f
	d.Errors, d.FormError = planFormErrors(s.catalog(r), err, prefixFormFields...)
	if msg, ok := s.staleNote(r, err); ok {
		d.FormError, d.Form.Version = msg, version
	}
	s.render(w, r, formStatus(err), "prefix-edit", d)
	return nil
}

func (s *Server) prefixDelete(w http.ResponseWriter, r *http.Request) error {
	p, err := s.postedPrefix(w, r, "")
	if err != nil {
		return err
	}
	cascade := checkbox(r, "cascade")
	err = s.store.DeletePrefix(r.Context(), p.ID, ipdesk.DeleteOptions{Cascade: cascade})
	if err == nil {
		s.setFlash(w, r, "flash.deleted", p.Prefix.String())
		back := "/spaces/" + strconv.FormatInt(p.SpaceID, 10)
		if p.ParentID != 0 && s.authorize(r.Context(), actRead, object{Type: ipdesk.ObjectPrefix, ID: p.ParentID}) == nil {
			back = prefixLink(p.ParentID)
		}
		redirect(w, r, back)
		return nil
	}
	if !isFormError(err) {
		return err
	}
	d, derr := s.prefixEditData(w, r, p)
	if derr != nil {
		return derr
	}
	d.Cascade, d.DeleteError = cascade, s.errorText(r, err)
	s.render(w, r, formStatus(err), "prefix-edit", d)
	return nil
}

// AllocView is the form that gives out the next free child.
func (d *prefixData) AllocView() prefixFormView {
	return prefixFormView{ID: "a", Form: d.Alloc, Errors: d.AllocErrors}
}

// MaxBits is the longest prefix length of the prefix's family.
func (d *prefixData) MaxBits() int { return d.Prefix.Prefix.Addr().BitLen() }

// MinChildBits is the shortest length a child of the prefix can have.
func (d *prefixData) MinChildBits() int { return min(d.Prefix.Prefix.Bits()+1, d.MaxBits()) }

// EditView is the form of the edit page.
func (d *prefixEditData) EditView() prefixFormView {
	return prefixFormView{ID: "e", Form: d.Form, Errors: d.Errors, Gateway: true}
}

// DeleteView is the prefix's delete form.
func (d *prefixEditData) DeleteView() deleteView {
	c := i18n.For(d.Lang)
	return deleteView{ID: "prefix", Title: c.T("plan.prefix.delete"), Action: prefixLink(d.Prefix.ID) + "/delete",
		Confirm: c.T("plan.prefix.delete_confirm", d.Prefix.Prefix.String()), CascadeLabel: c.T("plan.prefix.cascade"), Cascade: d.Cascade, Error: d.DeleteError}
}
