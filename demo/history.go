package demo

import (
	"encoding/json"
	"iter"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/ingest"
)

// actor is someone who makes changes in the history.
type actor struct {
	o      audittrail.Originator
	weight int      // share of the staff's changes
	types  []string // the object types they change; nil for all
}

// Originators that are not people of the account.
var (
	system = audittrail.Originator{ID: "system", Name: "System"}
	lpa    = audittrail.Originator{ID: "lpa-20931", Name: "Kim Tran (Vendor Support)", LoginName: "lpa_ktran",
		Profiles: []string{"Administrator"}, UserAgent: chromeMac, AuthType: "LPA", IsLPA: true}
	scim = audittrail.Originator{ID: "app-okta-scim", Name: "Okta SCIM Provisioning", UserAgent: "Okta SCIM Client 1.0.0", AuthType: "API"}
)

// Kinds of slot: a moment at which something happens.
const (
	slotStaff  = iota // a person of the account changes one object
	slotLPA           // the vendor's staff change one object
	slotSystem        // the platform's nightly jobs
)

type slot struct {
	at   time.Time
	kind int
}

// generator makes the history, day by day, over a world that it changes as
// it goes.
type generator struct {
	rng     *rand.Rand
	w       *world
	staff   []actor
	current int // the person at the keyboard; they make a run of changes
}

// history returns the changes of the demo account from from (inclusive) to
// to (exclusive), in date order, each with the object as it was before and
// after. The world starts with the objects the account held when its audit
// trail was enabled.
func history(rng *rand.Rand, loc *time.Location, from, to time.Time, staff []actor) iter.Seq[ingest.ChangeInput] {
	return func(yield func(ingest.ChangeInput) bool) {
		g := &generator{rng: rng, w: newWorld(rng, loc, from), staff: staff}
		end := to.Add(-time.Minute) // the changes of a slot take a few seconds
		y, m, d := from.In(loc).Date()
		for day := time.Date(y, m, d, 0, 0, 0, 0, loc); day.Before(to); day = day.AddDate(0, 0, 1) {
			for _, s := range g.slots(day) {
				if s.at.Before(from) || !s.at.Before(end) {
					continue
				}
				for _, c := range g.changes(s) {
					if !yield(c) {
						return
					}
				}
			}
		}
	}
}

// slots returns the moments of one day at which changes are made, in order:
// the platform's nightly jobs, then about fifty changes by people on a
// weekday (a handful at the weekend), mostly during office hours.
func (g *generator) slots(day time.Time) []slot {
	y, m, d := day.Date()
	at := func(minute int) time.Time {
		return time.Date(y, m, d, 0, minute, 0, 0, day.Location()).Add(time.Duration(g.rng.IntN(60_000)) * time.Millisecond)
	}
	out := []slot{{at: at(2*60 + g.rng.IntN(50)), kind: slotSystem}}
	n := 35 + g.rng.IntN(31)
	if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
		n = g.rng.IntN(3)
	}
	for range n {
		minute := 8*60 + g.rng.IntN(10*60+30)
		if g.rng.IntN(100) < 6 {
			minute = 18*60 + 30 + g.rng.IntN(150)
		}
		kind := slotStaff
		if g.rng.IntN(1000) < 15 {
			kind = slotLPA
		}
		out = append(out, slot{at: at(minute), kind: kind})
	}
	slices.SortFunc(out, func(a, b slot) int { return a.at.Compare(b.at) })
	return out
}

// changes returns what happens at slot s.
func (g *generator) changes(s slot) []ingest.ChangeInput {
	switch s.kind {
	case slotSystem:
		return g.nightly(s.at)
	case slotLPA:
		k := kindByKey[pick(g.rng, []string{"skills", "skills", "permissions", "working_hours", "users"})]
		return []ingest.ChangeInput{g.edit(k, s.at, lpa)}
	}
	if g.rng.IntN(100) < 30 {
		g.current = pickWeighted(g.rng, g.staff, func(a actor) int { return a.weight })
	}
	a := g.staff[g.current]
	k := kinds[pickWeighted(g.rng, kinds, func(k *kind) int {
		if a.types != nil && !slices.Contains(a.types, k.key) {
			return 0
		}
		return k.weight
	})]
	live := len(g.w.live[k.key])
	switch r := g.rng.IntN(1000); {
	case r < k.add && live < k.max:
		o := a.o
		if k.key == "users" && g.rng.IntN(100) < 35 {
			o = scim
		}
		return []ingest.ChangeInput{g.add(k, s.at, o)}
	case r < k.add+k.del && live > k.min:
		if c, ok := g.delete(k, s.at, a.o); ok {
			return []ingest.ChangeInput{c}
		}
	}
	return []ingest.ChangeInput{g.edit(k, s.at, a.o)}
}

// nightly returns the platform's own changes of one night: campaigns that
// start or end, and now and then an agent disabled after 90 days without
// signing in.
func (g *generator) nightly(at time.Time) []ingest.ChangeInput {
	var out []ingest.ChangeInput
	today := at.Format(time.DateOnly)
	for _, o := range g.w.live["campaign_scheduling"] {
		status := o.fields["status"]
		var next string
		switch {
		case (status == "Running" || status == "Paused") && o.fields["end_date"].(string) < today:
			next = "Completed"
		case status == "Scheduled" && o.fields["start_date"].(string) <= today:
			next = "Running"
		default:
			continue
		}
		before := clone(o.fields)
		o.fields["status"] = next
		at = at.Add(time.Duration(200+g.rng.IntN(2000)) * time.Millisecond)
		out = append(out, change("campaign_scheduling", o, before, o.fields, at, system, true))
	}
	if g.rng.IntN(100) < 12 {
		users := g.w.live["users"]
		o := users[g.rng.IntN(len(users))]
		if o.fields["enabled"] == true {
			before := clone(o.fields)
			o.fields["enabled"] = false
			at = at.Add(time.Duration(200+g.rng.IntN(2000)) * time.Millisecond)
			out = append(out, change("users", o, before, o.fields, at, system, true))
		}
	}
	return out
}

// add creates an object of kind k.
func (g *generator) add(k *kind, at time.Time, o audittrail.Originator) ingest.ChangeInput {
	obj := g.w.create(k, at)
	return change(k.key, obj, nil, obj.fields, at, o, false)
}

// delete deletes an object of kind k that may be deleted, if there is one.
func (g *generator) delete(k *kind, at time.Time, o audittrail.Originator) (ingest.ChangeInput, bool) {
	live := g.w.live[k.key]
	for range 5 {
		i := g.rng.IntN(len(live))
		obj := live[i]
		if k.deletable != nil && !k.deletable(obj.fields) {
			continue
		}
		g.w.live[k.key] = slices.Delete(live, i, i+1)
		return change(k.key, obj, obj.fields, nil, at, o, false), true
	}
	return ingest.ChangeInput{}, false
}

// edit changes one to three elements of an object of kind k.
func (g *generator) edit(k *kind, at time.Time, o audittrail.Originator) ingest.ChangeInput {
	live := g.w.live[k.key]
	obj := live[g.rng.IntN(len(live))]
	for tries := 0; k.editable != nil && !k.editable(obj.fields) && tries < 10; tries++ {
		obj = live[g.rng.IntN(len(live))]
	}
	before := clone(obj.fields)
	want := 1
	if r := g.rng.IntN(100); r >= 92 {
		want = 3
	} else if r >= 70 {
		want = 2
	}
	touched := map[string]bool{} // elements changed; a second edit of one could undo the first
	for tries := 0; len(touched) < want && tries < 12; tries++ {
		e := k.edits[pickWeighted(g.rng, k.edits, func(e edit) int { return e.weight })]
		prev := clone(obj.fields)
		if !e.apply(g.w, obj.fields) {
			continue
		}
		keys := changedKeys(prev, obj.fields)
		if slices.ContainsFunc(keys, func(k string) bool { return touched[k] }) {
			obj.fields = prev
			continue
		}
		for _, k := range keys {
			touched[k] = true
		}
	}
	if len(touched) == 0 { // every kind has an edit that always applies: the last
		k.edits[len(k.edits)-1].apply(g.w, obj.fields)
	}
	return change(k.key, obj, before, obj.fields, at, o, false)
}

// changedKeys returns the top-level elements whose values differ between a and b.
func changedKeys(a, b map[string]any) []string {
	var keys []string
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	for k, v := range a {
		if string(snapshotValue(v)) != string(snapshotValue(b[k])) {
			keys = append(keys, k)
		}
	}
	return keys
}

// change returns the change of obj from before to after (either nil).
func change(typ string, obj *object, before, after map[string]any, at time.Time, o audittrail.Originator, automatic bool) ingest.ChangeInput {
	name := obj.name()
	c := ingest.ChangeInput{ObjectType: typ, ObjectID: ingest.Scalar(obj.id), ObjectName: name,
		Before: snapshot(before), After: snapshot(after), Date: audittrail.FormatTime(at), Originator: &o, Automatic: automatic}
	if o.Profiles != nil {
		c.Originator.Profiles = slices.Clone(o.Profiles)
	}
	return c
}

func snapshot(f map[string]any) json.RawMessage {
	if f == nil {
		return nil
	}
	return snapshotValue(f)
}

func snapshotValue(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // strings, numbers, booleans, lists and maps of them always marshal
	}
	return b
}

// pick returns a random item of list.
func pick[T any](rng *rand.Rand, list []T) T { return list[rng.IntN(len(list))] }

// pickWeighted returns the index of a random item of list, each as likely
// as its weight.
func pickWeighted[T any](rng *rand.Rand, list []T, weight func(T) int) int {
	total := 0
	for _, it := range list {
		total += weight(it)
	}
	r := rng.IntN(total)
	for i, it := range list {
		if r -= weight(it); r < 0 {
			return i
		}
	}
	return len(list) - 1
}
