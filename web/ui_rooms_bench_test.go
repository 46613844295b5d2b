package web

import (
	"context"
	"fmt"
	"testing"

	"ipdesk"
	"ipdesk/schedule"
	"ipdesk/schedule/schedtest"
	"ipdesk/sqldb"
)

// BenchmarkRoomsOccupancy: the occupancy view (5 days, the first page of
// 30 rooms) and a room's page, of a school with 500 rooms, 12 periods a
// day and a lesson in every other period of every room, read from one
// timetable snapshot per request.
func BenchmarkRoomsOccupancy(b *testing.B) {
	clock := schedtest.NewClock(monday0900)
	e := newEnvWith(b, b.TempDir()+"/b.db", nil, func(db *sqldb.DB, o *Options) {
		o.Timetable = schedule.NewPlanner(db, schedule.Settings{Location: berlin}, clock)
	})
	ctx := ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{ID: 1, Name: "bench"})
	var ps []*ipdesk.Period
	for i := 0; i < 12; i++ {
		ps = append(ps, &ipdesk.Period{Number: i + 1, Start: ipdesk.TimeOfDay(8*60 + i*50), End: ipdesk.TimeOfDay(8*60 + i*50 + 45)})
	}
	if err := e.db.ReplacePeriods(ctx, ps); err != nil {
		b.Fatal(err)
	}
	site := &ipdesk.Location{Kind: ipdesk.LocationSite, Name: "Campus"}
	if err := e.db.CreateLocation(ctx, site); err != nil {
		b.Fatal(err)
	}
	var lessons []*ipdesk.Lesson
	var first int64
	for i := 0; i < 500; i++ {
		r := &ipdesk.Location{Kind: ipdesk.LocationRoom, Name: fmt.Sprintf("R%03d", i), ParentID: site.ID}
		if err := e.db.CreateLocation(ctx, r); err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			first = r.ID
		}
		for d := 0; d < 5; d++ {
			for p := 1 + i%2; p <= 12; p += 2 {
				lessons = append(lessons, &ipdesk.Lesson{RoomID: r.ID, Date: ipdesk.DateOf(monday0900).AddDays(d), Period: p, Course: "Course", Teacher: "Teacher"})
			}
		}
	}
	if res, err := e.db.ImportLessons(ctx, lessons, ipdesk.LessonImportOptions{}); err != nil || len(res.Problems) > 0 {
		b.Fatalf("import: %v %v", err, res.Problems)
	}
	pb := &planBench{testEnv: e, cookie: e.login("admin", "password123")}
	b.Run("rooms", func(b *testing.B) { pb.run(b, "/rooms") })
	b.Run("grid", func(b *testing.B) { pb.run(b, "/rooms/grid") })
	b.Run("room", func(b *testing.B) { pb.run(b, path("/rooms/%d", first)) })
}
