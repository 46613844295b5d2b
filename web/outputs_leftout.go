package web

import (
	"context"
	"strconv"

	"ipdesk"
)

// narrowLeftOut keeps, of the records each output leaves out, those the
// actor of ctx may see, each with the link to its page, and counts the
// others in LeftOutHidden: a user learns neither the name nor the address
// of a record outside the part of the plan they may see. The record that
// keeps its place (OtherID) is kept only when the user may see it too.
func (s *Server) narrowLeftOut(ctx context.Context, outs []ipdesk.Output) error {
	p, err := s.permissions(ctx)
	if err != nil {
		return err
	}
	seen := map[leftOutKey]bool{} // records checked, by object and ID
	for i := range outs {
		o := &outs[i]
		kept := o.LeftOut[:0:0]
		for _, l := range o.LeftOut {
			if !mayKnowLeftOut(p, l.Object, l.SpaceID, l.Address) {
				o.LeftOutHidden++
				continue
			}
			if l.OtherID != 0 && !p.Admin {
				k := leftOutKey{l.Object, l.OtherID}
				ok, checked := seen[k]
				if !checked {
					ok = s.mayKnowRecord(ctx, p, l.Object, l.OtherID)
					seen[k] = ok
				}
				if !ok {
					l.OtherID = 0
				}
			}
			l.URL = recordURL(l.Object, l.ID)
			if l.OtherID != 0 {
				l.OtherURL = recordURL(l.Object, l.OtherID)
			}
			kept = append(kept, l)
		}
		o.LeftOut = kept
	}
	return nil
}

type leftOutKey struct {
	object string
	id     int64
}

// recordURL is the page of an address (its host page) or a prefix.
func recordURL(object string, id int64) string {
	if object == ipdesk.ObjectPrefix {
		return "/prefixes/" + strconv.FormatInt(id, 10)
	}
	return "/hosts/" + strconv.FormatInt(id, 10)
}
