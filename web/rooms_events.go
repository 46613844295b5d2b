package web

import (
	"encoding/json"
	"time"

	"ipdesk"
	"ipdesk/live"
)

// RoomsTopic is the live topic of the rooms' states: the timetable's
// switcher publishes an event on it each time it looks at the plan (at
// every boundary, and after every change of lessons, overrides, periods,
// holidays, policies and rooms), and the occupancy view and the rooms'
// pages fetch their grid anew. The events are hints, not replayed.
const RoomsTopic = "rooms"

// roomsEventData is the data of a rooms event.
type roomsEventData struct {
	Time time.Time `json:"time"`
	// Next is the next boundary after which a state may change.
	Next *time.Time `json:"next"`
	// Blocked are the ids of the rooms blocked at Time.
	Blocked []int64 `json:"blocked"`
}

// RoomsEvent returns the live event of the rooms' states st, for
// schedule.SwitcherConfig.Notify.
func RoomsEvent(st ipdesk.RoomStates) live.Event {
	d := roomsEventData{Time: st.Time, Next: st.Next, Blocked: st.Blocked()}
	if d.Blocked == nil {
		d.Blocked = []int64{}
	}
	data, _ := json.Marshal(d) // plain values: it cannot fail
	return live.Event{Topic: RoomsTopic, Data: data}
}
