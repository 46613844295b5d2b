package web

// The public occupancy page (Options.PublicRooms): which rooms are
// blocked now and in today's periods, for a screen in the corridor,
// without signing in. It shows rooms and their states only: no people,
// lessons, hosts or logbook. When it is off, its address does not exist.

import (
	"net/http"

	"ipdesk"
)

// publicRoomsPath is the address of the public occupancy page.
const publicRoomsPath = "/public/rooms"

// publicRoomsData is the data of the public occupancy page.
type publicRoomsData struct {
	page
	AsOf    string
	Periods []*ipdesk.Period
	// Current is the number of the period running, 0 in a break.
	Current int
	Rooms   []publicRoom
}

// publicRoom is one room of the public page: its name and states, and
// nothing else.
type publicRoom struct {
	Name    string
	Blocked bool
	// Until is when the state changes next ("" when not soon).
	Until string
	Cells []publicCell
}

// publicCell is the state of one of today's periods.
type publicCell struct {
	Blocked, Current, Past bool
}

// publicRoomsPage answers the public occupancy page.
func (s *Server) publicRoomsPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	cat := s.catalog(r)
	states, err := s.timetable.States(ctx)
	if err != nil {
		return err
	}
	today := s.today()
	pv, err := s.timetable.Preview(ctx, today, today)
	if err != nil {
		return err
	}
	byID := make(map[int64]ipdesk.RoomState, len(states.Rooms))
	for _, st := range states.Rooms {
		byID[st.RoomID] = st
	}
	d := &publicRoomsData{page: s.base(w, r, cat.T("public.title"), ""), Periods: pv.Periods,
		AsOf: s.clockText(cat, s.timetable.Now())}
	for _, pr := range pv.Rooms {
		st, ok := byID[pr.RoomID]
		if !ok {
			continue
		}
		room := publicRoom{Name: pr.Name, Blocked: st.Blocked}
		if st.ValidUntil != nil {
			room.Until = s.clockText(cat, *st.ValidUntil)
		}
		for _, pc := range pr.Cells {
			room.Cells = append(room.Cells, publicCell{Blocked: shownState(pc, st.Blocked), Current: pc.Current, Past: pc.Past})
			if pc.Current {
				d.Current = pc.Period
			}
		}
		d.Rooms = append(d.Rooms, room)
	}
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusOK, "public_rooms", d)
	return nil
}

// shownState is the state a period cell shows: in the period running,
// the room's state now (blockedNow); while a "now" override is in force
// in a period not over, its state; else the timetable's.
func shownState(pc ipdesk.PreviewCell, blockedNow bool) bool {
	switch {
	case pc.Current:
		return blockedNow
	case pc.NowOverride != nil && !pc.Past:
		return *pc.NowOverride
	}
	return pc.Blocked
}
