package web

import (
	"math"
	"math/big"
	"net/http"
	"net/netip"
	"strconv"

	"ipdesk"
)

// planNode is a prefix of the tree with its use and what is inside it.
type planNode struct {
	Prefix   *ipdesk.Prefix
	Usage    ipdesk.Usage
	Depth    int
	CanEdit  bool
	Children []*planNode
}

// Percent is the used share in percent.
func (n *planNode) Percent() float64 { return n.Usage.Percent() }

// SizeText tells how many addresses the prefix has.
func (n *planNode) SizeText() string { return planSize(n.Prefix, n.Usage) }

// planSize is the size of a prefix for people: exact up to a million
// addresses, a power of two beyond.
func planSize(p *ipdesk.Prefix, u ipdesk.Usage) string {
	host := p.Prefix.Addr().BitLen() - p.Prefix.Bits()
	if host <= 20 {
		size, _ := u.Counts()
		return size.String()
	}
	return "2^" + strconv.Itoa(host)
}

// UsedText tells how many addresses are taken.
func (n *planNode) UsedText() string {
	_, used := n.Usage.Counts()
	return countText(used)
}

// countText writes a number of addresses for people: exact up to a
// million; beyond, as m · 2^k with an odd m below 1024 (two /48s are 2^81,
// three are 3 · 2^80), or else as about 2^x.
func countText(n *big.Int) string {
	if n.Cmp(big.NewInt(1<<20)) <= 0 {
		return n.String()
	}
	k := n.TrailingZeroBits()
	m := new(big.Int).Rsh(n, k)
	switch {
	case m.IsInt64() && m.Int64() == 1:
		return "2^" + strconv.FormatUint(uint64(k), 10)
	case m.BitLen() <= 10:
		return m.String() + " · 2^" + strconv.FormatUint(uint64(k), 10)
	}
	// log2 n from its top 53 bits.
	shift := n.BitLen() - 53
	top, _ := new(big.Float).SetInt(new(big.Int).Rsh(n, uint(shift))).Float64()
	return "≈ 2^" + strconv.FormatFloat(math.Log2(top)+float64(shift), 'f', 1, 64)
}

// planTree nests prefixes given in address order (each container before
// what it holds): a prefix goes under the nearest earlier one that
// contains it; the others are roots.
func planTree(prefixes []*ipdesk.Prefix) []*planNode {
	var roots, stack []*planNode
	for _, p := range prefixes {
		n := &planNode{Prefix: p}
		for len(stack) > 0 {
			top := stack[len(stack)-1].Prefix.Prefix
			if top.Bits() < p.Prefix.Bits() && top.Contains(p.Prefix.Addr()) {
				break
			}
			stack = stack[:len(stack)-1]
		}
		if len(stack) == 0 {
			roots = append(roots, n)
		} else {
			parent := stack[len(stack)-1]
			n.Depth = parent.Depth + 1
			parent.Children = append(parent.Children, n)
		}
		if p.Kind == ipdesk.PrefixContainer {
			stack = append(stack, n)
		}
	}
	return roots
}

// walkPlan calls fn for every node of the tree, parents first.
func walkPlan(nodes []*planNode, fn func(*planNode)) {
	for _, n := range nodes {
		fn(n)
		walkPlan(n.Children, fn)
	}
}

// prefixForm is what a prefix form holds, as typed.
type prefixForm struct {
	Prefix, Kind, Description, Gateway, VLAN string
	DHCP                                     bool
	// Bits is the length of the child a container gives out.
	Bits    string
	Version string
}

func readPrefixForm(r *http.Request) prefixForm {
	return prefixForm{
		Prefix:      formValue(r, "prefix"),
		Kind:        formValue(r, "kind"),
		Description: formValue(r, "description"),
		Gateway:     formValue(r, "gateway"),
		VLAN:        formValue(r, "vlan"),
		DHCP:        checkbox(r, "dhcp"),
		Bits:        formValue(r, "prefix_length"),
		Version:     formValue(r, "version"),
	}
}

// prefixFormFields are the fields of the prefix forms, for placing errors.
var prefixFormFields = []string{"prefix", "kind", "description", "gateway", "vlan", "dhcp", "prefix_length"}

// fields parses the form's fields other than the prefix into p.
func (f prefixForm) fields(p *ipdesk.Prefix) error {
	p.Kind = ipdesk.PrefixKind(f.Kind)
	p.Description = f.Description
	p.DHCP = f.DHCP
	if f.Gateway != "" {
		gw, err := ipdesk.ParseAddr("gateway", f.Gateway)
		if err != nil {
			return err
		}
		p.Gateway = gw
	}
	vlan, err := optionalInt("vlan", f.VLAN)
	if err != nil {
		return err
	}
	if vlan != nil {
		if *vlan < 0 || *vlan > 4094 {
			return ipdesk.FieldErrorf(ipdesk.EINVALID, "vlan", "vlan %d is outside 0..4094 (0 means none)", *vlan)
		}
		p.VLAN = int(*vlan)
	}
	return nil
}

// spaceTreeData is the data of a space's prefix tree.
type spaceTreeData struct {
	page
	Space *ipdesk.Space
	// CanEdit: the user may change the space; CanCreate: the user may
	// create prefixes in it.
	CanEdit   bool
	CanCreate bool
	Filter    string
	Roots     []*planNode
	// Context are the visible prefixes around the first one shown, when
	// the page starts inside them.
	Context   []*ipdesk.Prefix
	Total     int
	Pager     planPager
	Form      prefixForm
	Errors    fieldErrors
	FormError string
}

// treePageSize is how many prefixes one page of the tree shows.
const treePageSize = 300

func (s *Server) spaceTreePage(w http.ResponseWriter, r *http.Request) error {
	d, err := s.spaceTreeData(w, r)
	if err != nil {
		return err
	}
	d.Form.Kind = string(ipdesk.PrefixSubnet)
	s.render(w, r, http.StatusOK, "space", d)
	return nil
}

// spaceTreeData reads one page of the tree of the space in the path: the
// prefixes the user may see, in address order, nested, with their use.
func (s *Server) spaceTreeData(w http.ResponseWriter, r *http.Request) (*spaceTreeData, error) {
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, actRead, object{Type: ipdesk.ObjectSpace, ID: id}); err != nil {
		return nil, err
	}
	sp, err := s.store.FindSpaceByID(ctx, id)
	if err != nil {
		return nil, err
	}
	scope, err := s.scope(ctx, ipdesk.RightView)
	if err != nil {
		return nil, err
	}
	perms, err := s.permissions(ctx)
	if err != nil {
		return nil, err
	}
	d := &spaceTreeData{page: s.base(w, r, sp.Name, "plan"), Space: sp, Errors: fieldErrors{}, Filter: r.URL.Query().Get("q")}
	d.Path = pageBack(r, "/spaces/"+strconv.FormatInt(id, 10))
	offset := queryOffset(r, "offset")
	prefixes, n, err := s.store.FindPrefixes(ctx, ipdesk.PrefixFilter{SpaceID: &id, Scope: scope, Query: d.Filter,
		Page: ipdesk.Page{Offset: offset, Limit: treePageSize}})
	if err != nil {
		return nil, err
	}
	d.Total = n
	d.Pager = newPlanPager("/spaces/"+strconv.FormatInt(id, 10), d.Query, "offset", offset, treePageSize, len(prefixes), n)
	d.Roots = planTree(prefixes)
	ids := make([]int64, len(prefixes))
	for i, p := range prefixes {
		ids[i] = p.ID
	}
	usage, err := s.store.PrefixUsages(ctx, ids)
	if err != nil {
		return nil, err
	}
	d.CanEdit = perms.CanSpace(id, ipdesk.RightEdit)
	d.CanCreate = d.CanEdit
	walkPlan(d.Roots, func(n *planNode) {
		n.Usage = usage[n.Prefix.ID]
		n.CanEdit = perms.CanPrefix(id, n.Prefix.Prefix, ipdesk.RightEdit)
		if n.CanEdit && n.Prefix.Kind == ipdesk.PrefixContainer {
			d.CanCreate = true
		}
	})
	if offset > 0 && d.Filter == "" && len(prefixes) > 0 && prefixes[0].ParentID != 0 {
		if d.Context, err = s.visibleAncestors(r, prefixes[0]); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// visibleAncestors returns the prefixes the user may see that contain p,
// the outermost first: one query.
func (s *Server) visibleAncestors(r *http.Request, p *ipdesk.Prefix) ([]*ipdesk.Prefix, error) {
	scope, err := s.scope(r.Context(), ipdesk.RightView)
	if err != nil {
		return nil, err
	}
	first := p.Prefix.Addr()
	all, _, err := s.store.FindPrefixes(r.Context(), ipdesk.PrefixFilter{SpaceID: &p.SpaceID, Contains: &first, Scope: scope,
		Page: ipdesk.Page{Limit: ipdesk.MaxLimit}})
	if err != nil {
		return nil, err
	}
	var out []*ipdesk.Prefix
	for _, a := range all {
		if a.Prefix.Bits() < p.Prefix.Bits() {
			out = append(out, a)
		}
	}
	return out, nil
}

// prefixCreate creates a prefix from the form of the tree page.
func (s *Server) prefixCreate(w http.ResponseWriter, r *http.Request) error {
	if err := s.parseForm(w, r); err != nil {
		return err
	}
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.authorize(ctx, actRead, object{Type: ipdesk.ObjectSpace, ID: id}); err != nil {
		return err
	}
	f := readPrefixForm(r)
	p := &ipdesk.Prefix{SpaceID: id}
	var warnings []ipdesk.Warning
	err = f.fields(p)
	if err == nil {
		p.Prefix, err = ipdesk.ParsePrefix("prefix", f.Prefix)
	}
	if err == nil {
		err = s.mayPrefix(ctx, id, p.Prefix.Masked(), ipdesk.RightEdit)
	}
	if err == nil {
		warnings, err = s.store.CreatePrefix(ctx, p)
	}
	if err == nil {
		s.createdFlash(w, r, p.Prefix.String(), warnings)
		redirect(w, r, "/prefixes/"+strconv.FormatInt(p.ID, 10))
		return nil
	}
	if !isFormError(err) {
		return err
	}
	d, derr := s.spaceTreeData(w, r)
	if derr != nil {
		return derr
	}
	d.Form = f
	d.Errors, d.FormError = planFormErrors(s.catalog(r), err, prefixFormFields...)
	s.render(w, r, formStatus(err), "space", d)
	return nil
}

// createdFlash tells the next page what was created, with the warnings
// about it (such as overlaps with other spaces).
func (s *Server) createdFlash(w http.ResponseWriter, r *http.Request, what string, warnings []ipdesk.Warning) {
	if len(warnings) > 0 {
		s.setFlash(w, r, "flash.plan_created_warning", warningText(s.visibleWarnings(r, warnings)))
		return
	}
	s.setFlash(w, r, "flash.created", what)
}

// addrOf parses an optional address query parameter.
func addrOf(v string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(v)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// prefixFormView is what the template of the prefix form fields needs:
// the typed values, their errors, whether the gateway is asked for, and
// the prefix of the inputs' ids.
type prefixFormView struct {
	ID      string
	Form    prefixForm
	Errors  fieldErrors
	Gateway bool
}

// CreateView is the new-prefix form of the tree page.
func (d *spaceTreeData) CreateView() prefixFormView {
	return prefixFormView{ID: "p", Form: d.Form, Errors: d.Errors, Gateway: true}
}
