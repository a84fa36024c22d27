package demo

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// object is one object of the demo platform: its id and its elements, the
// snapshot that a change sends. Values are strings, ints, booleans,
// []string and map[string]any of those.
type object struct {
	id     string
	fields map[string]any
}

func (o *object) name() string { s, _ := o.fields["name"].(string); return s }

// world is the demo platform's state as the history unfolds: the live
// objects of each type, in creation order.
type world struct {
	rng      *rand.Rand
	loc      *time.Location
	live     map[string][]*object
	lastID   int
	employee int
}

// newWorld returns the world as it was when the audit trail was enabled at
// from: each kind's initial objects, which the trail never saw created.
func newWorld(rng *rand.Rand, loc *time.Location, from time.Time) *world {
	w := &world{rng: rng, loc: loc, live: map[string][]*object{}, lastID: 3_184_220_000, employee: 20_000}
	for _, k := range kinds {
		for range k.initial {
			w.create(k, from.AddDate(0, 0, -1-rng.IntN(60)))
		}
	}
	// Campaigns created before the trail have run their course since.
	today := from.In(loc).Format(time.DateOnly)
	for _, o := range w.live["campaign_scheduling"] {
		switch {
		case o.fields["end_date"].(string) < today:
			o.fields["status"] = "Completed"
		case o.fields["start_date"].(string) <= today:
			o.fields["status"] = "Running"
		}
	}
	return w
}

// create makes a new live object of kind k at the given moment.
func (w *world) create(k *kind, at time.Time) *object {
	o := &object{id: w.newID(), fields: k.create(w, at.In(w.loc))}
	w.live[k.key] = append(w.live[k.key], o)
	return o
}

// newID returns the next object id, numeric as platforms' ids often are.
func (w *world) newID() string {
	w.lastID += 1 + w.rng.IntN(40)
	return strconv.Itoa(w.lastID)
}

// unique returns a name made by gen that no live object of type typ has.
func (w *world) unique(typ string, gen func() string) string {
	taken := func(name string) bool {
		return slices.ContainsFunc(w.live[typ], func(o *object) bool { return o.name() == name })
	}
	name := gen()
	for i := 0; taken(name) && i < 30; i++ {
		name = gen()
	}
	for base, n := name, 2; taken(name); n++ {
		name = fmt.Sprintf("%s %d", base, n)
	}
	return name
}

// names returns the names of the live objects of type typ for which keep
// (nil for all) holds.
func (w *world) names(typ string, keep func(f map[string]any) bool) []string {
	var out []string
	for _, o := range w.live[typ] {
		if keep == nil || keep(o.fields) {
			out = append(out, o.name())
		}
	}
	return out
}

// some returns n distinct random items of pool (fewer if pool is shorter).
func (w *world) some(pool []string, n int) []string {
	p := slices.Clone(pool)
	w.rng.Shuffle(len(p), func(i, j int) { p[i], p[j] = p[j], p[i] })
	return p[:min(n, len(p))]
}

// password returns a random password for a user of the platform.
func (w *world) password() string {
	const chars = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!#%&*?"
	b := make([]byte, 14)
	for i := range b {
		b[i] = chars[w.rng.IntN(len(chars))]
	}
	return string(b)
}

// Edits of one element. Each returns false when it cannot change anything.

// setOther sets f[key] to an item of pool other than its current value.
func setOther[T comparable](w *world, f map[string]any, key string, pool []T) bool {
	cur, _ := f[key].(T)
	var others []T
	for _, v := range pool {
		if v != cur {
			others = append(others, v)
		}
	}
	if len(others) == 0 {
		return false
	}
	f[key] = pick(w.rng, others)
	return true
}

// listAdd adds to the list f[key] an item of pool it does not hold, up to max items.
func listAdd(w *world, f map[string]any, key string, pool []string, max int) bool {
	cur, _ := f[key].([]string)
	if len(cur) >= max {
		return false
	}
	var others []string
	for _, v := range pool {
		if !slices.Contains(cur, v) {
			others = append(others, v)
		}
	}
	if len(others) == 0 {
		return false
	}
	f[key] = append(slices.Clone(cur), pick(w.rng, others))
	return true
}

// listRemove removes an item from the list f[key], keeping at least min.
func listRemove(w *world, f map[string]any, key string, min int) bool {
	cur, _ := f[key].([]string)
	if len(cur) <= min {
		return false
	}
	i := w.rng.IntN(len(cur))
	f[key] = slices.Delete(slices.Clone(cur), i, i+1)
	return true
}

// toggle flips the boolean f[key].
func toggle(f map[string]any, key string) bool {
	b, _ := f[key].(bool)
	f[key] = !b
	return true
}

// describe sets f["description"] to one of templates, filled with the name.
func describe(w *world, f map[string]any, templates []string) bool {
	name, _ := f["name"].(string)
	pool := make([]string, len(templates))
	for i, t := range templates {
		pool[i] = fmt.Sprintf(t, name)
	}
	return setOther(w, f, "description", pool)
}

// Weekly schedules: {"monday": {"start": "09:00", "end": "17:00"}, ...}.

var weekdays = []string{"monday", "tuesday", "wednesday", "thursday", "friday"}
var weekend = []string{"saturday", "sunday"}
var allDays = append(slices.Clone(weekdays), weekend...)

var (
	opens  = []string{"07:00", "07:30", "08:00", "08:30", "09:00", "09:30", "10:00"}
	closes = []string{"16:00", "17:00", "17:30", "18:00", "19:00", "20:00", "21:00", "22:00"}
)

func hours(start, end string) map[string]any { return map[string]any{"start": start, "end": end} }

// schedule returns a weekly schedule of the weekdays, sometimes with
// Saturday.
func (w *world) schedule() map[string]any {
	start, end := pick(w.rng, opens), pick(w.rng, closes)
	s := map[string]any{}
	for _, d := range weekdays {
		s[d] = hours(start, end)
	}
	if w.rng.IntN(100) < 30 {
		s["saturday"] = hours("10:00", "16:00")
	}
	return s
}

// shiftTime moves the start or the end of one day of the schedule f[key].
func shiftTime(w *world, f map[string]any, key string) bool {
	s, _ := f[key].(map[string]any)
	var days []string
	for _, d := range allDays {
		if _, ok := s[d]; ok {
			days = append(days, d)
		}
	}
	if len(days) == 0 {
		return false
	}
	day := s[pick(w.rng, days)].(map[string]any)
	if w.rng.IntN(2) == 0 {
		return setOther(w, day, "start", opens)
	}
	return setOther(w, day, "end", closes)
}

// toggleDay opens or closes a weekend day of the schedule f[key].
func toggleDay(w *world, f map[string]any, key string) bool {
	s, _ := f[key].(map[string]any)
	if s == nil {
		return false
	}
	d := pick(w.rng, weekend)
	if _, ok := s[d]; ok {
		delete(s, d)
	} else {
		s[d] = hours("10:00", pick(w.rng, []string{"14:00", "16:00", "18:00"}))
	}
	return true
}

// clone returns a deep copy of a snapshot value.
func clone[T any](v T) T {
	switch x := any(v).(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, y := range x {
			m[k] = clone(y)
		}
		return any(m).(T)
	case []string:
		return any(slices.Clone(x)).(T)
	}
	return v
}

// loginOf returns the login of a person: "Seán O'Brien" → "sean.obrien".
func loginOf(name string) string {
	r := strings.NewReplacer(" ", ".", "'", "", "é", "e", "á", "a", "í", "i", "ó", "o", "ú", "u", "ñ", "n", "ü", "u", "ö", "o", "ä", "a")
	return strings.ToLower(r.Replace(name))
}

// email returns the work address of a person of the demo account.
func email(name string) string { return loginOf(name) + "@democontactcenter.example" }
