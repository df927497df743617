package autoscalers

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Scaling is what an autoscaler's controller does to the replicas of its
// target in a mode.
type Scaling int

const (
	// WritesReplicas: the controller writes the replicas itself (through
	// /scale or the workload's spec).
	WritesReplicas Scaling = iota + 1
	// CreatesHPA: the controller creates an HPA on the target.
	CreatesHPA
	// CreatesScaledObject: the controller creates a ScaledObject on the
	// target.
	CreatesScaledObject
)

// Autoscaler is one catalogued autoscaling kind.
type Autoscaler struct {
	// Project names the project in messages ("AIBrix").
	Project string
	// GVK is the kind, as apis lists it among the guarded kinds.
	GVK schema.GroupVersionKind
	// Source says where the entry was read, and at which version.
	Source string
	// Target says which workload an object of the kind scales.
	Target Target
	// Modes are the ways it scales; the first whose conditions hold is
	// the object's. An object in none of them scales nothing.
	Modes []Mode
}

// Target says which workload an autoscaler scales, in its own namespace.
// Exactly one of Self, Ref and Kind is set.
type Target struct {
	// Self: the object itself, through its /scale subresource.
	Self bool
	// Ref is the path of an {apiVersion, kind, name} reference to the
	// workload (a reference without kind or name scales nothing).
	Ref []string
	// APIVersion and Kind are those of a workload the controller creates,
	// named by one of Names: regular expressions in which {name} stands for
	// the object's name and {a.b.c} for the value of that field (an
	// alternative naming an absent field is left out).
	APIVersion, Kind string
	Names            []string
	// Revisions: the controller makes a new workload for each revision,
	// so the names are patterns and no single one is the target.
	Revisions bool
}

// Mode is one way an autoscaler scales its target.
type Mode struct {
	// Name describes the mode in messages; {a.b.c} stands for a field.
	Name string
	// Field is where the mode is chosen: the path of a finding on the
	// autoscaler.
	Field []string
	// When are the conditions that select the mode, all of them.
	When []Condition
	// Scaling is what the controller does in the mode.
	Scaling Scaling
	// Generated is the name of the HPA or ScaledObject the controller
	// creates ({name} is the object's); empty when it is not known ahead
	// (named after each revision).
	Generated string
	// Via is the kind of the object that owns the generated HPA or
	// ScaledObject when it is not the autoscaler itself (Knative's
	// PodAutoscaler of each revision).
	Via *OwnerKind
	// Fix says how to stop the autoscaler scaling the target, so that
	// another can ({name} is the object's name).
	Fix string
}

// OwnerKind is the group and kind of an owner reference.
type OwnerKind struct {
	Group, Kind string
}

// Condition holds when the value of the field at Path is one of In ("" for
// an absent field; booleans and numbers in their JSON text), or, with Not,
// none of them.
type Condition struct {
	Path []string
	In   []string
	Not  bool
}
