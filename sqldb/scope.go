package sqldb

import (
	"strings"

	"ipdesk"
	"ipdesk/ipam"
)

// scopeCondition returns the SQL condition that keeps the rows inside
// scope: rows of its spaces, and rows of a prefix's space whose key range
// [firstCol, lastCol] lies inside the prefix. An empty scope keeps
// nothing.
func scopeCondition(scope ipdesk.Scope, firstCol, lastCol string, a *args) string {
	if scope.All {
		return "TRUE"
	}
	var or []string
	if len(scope.Spaces) > 0 {
		or = append(or, idList("space_id", scope.Spaces, a))
	}
	for _, p := range scope.Prefixes {
		first, last := ipam.Bounds(p.Prefix)
		or = append(or, "(space_id = "+a.add(p.SpaceID)+" AND "+firstCol+" >= "+a.add(ipam.Key(first))+" AND "+lastCol+" <= "+a.add(ipam.Key(last))+")")
	}
	if len(or) == 0 {
		return "FALSE"
	}
	return "(" + strings.Join(or, " OR ") + ")"
}

// idList returns "col IN (…)" for ids, or FALSE for none.
func idList(col string, ids []int64, a *args) string {
	if len(ids) == 0 {
		return "FALSE"
	}
	ph := make([]string, len(ids))
	for i, id := range ids {
		ph[i] = a.add(id)
	}
	return col + " IN (" + strings.Join(ph, ", ") + ")"
}
