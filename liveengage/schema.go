package liveengage

import (
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// schemaSDL is the GraphQL schema of the audit method, as the LiveEngage
// documentation describes it: one query field, auditData, and the fourteen
// fields of its items.
//
// The arguments whose type the documentation does not give are custom
// scalars, read leniently by this package (readArgs in graphql.go): a direction may be
// an enum value (ASC) or a string ("ASC"), a user id a number or a string,
// and any of them a single value or a list. Defaults are applied in Go
// (defaultParams, DefaultFirst), not here, so that there is one source.
const schemaSDL = `
schema { query: Query }

type Query {
  "The changes made to the account's objects, one per changed element."
  auditData(
    "First day, yyyy-MM-dd, in the requested time zone."
    fromDate: String
    "Last day, yyyy-MM-dd, in the requested time zone, included. "
    toDate: String
    "Number of records to return: 0 to 1000, default 50."
    first: Int
    "Position of the first record to return, default 0."
    offset: Int
    "Columns to order by: changeTimestamp."
    orderBy: [OrderField]
    "Direction of each orderBy column: ASC or DESC (default)."
    orderDirection: [OrderDirection]
    "Originators to keep, by id or name."
    users: [User]
    "Component types to keep, such as ACUserObject."
    componentTypes: [ComponentType]
    "Language of the results, default en-US."
    language: String
    "Time zone of the dates, default US/Eastern."
    timezone: String
    "Include the changes made by LPAs, default false."
    lpa: Boolean
    "Include automatic changes, default false."
    automaticUpdates: Boolean
  ): [AuditData!]!
}

"A column of orderBy: changeTimestamp."
scalar OrderField
"ASC or DESC, as an enum value or a string."
scalar OrderDirection
"An originator's id or name, as a string or a number."
scalar User
"A component type name such as ACUserObject, as a string or an enum value."
scalar ComponentType

"One changed element of one object."
type AuditData {
  accountId: String!
  objectType: String!
  objectName: String!
  actionType: String!
  element: String!
  oldValue: String!
  newValue: String!
  "yyyy-MM-dd HH:mm:ss.S in the requested time zone."
  changeDate: String!
  "The originator's name."
  originator: String!
  originatorLoginName: String!
  "The originator's id."
  originatorUserId: String!
  originatorUserAgent: String!
  originatorAuthType: String!
  originatorIsLpa: Boolean!
}
`

// schema is schemaSDL, loaded once.
var schema = gqlparser.MustLoadSchema(&ast.Source{Name: "liveengage.graphql", Input: schemaSDL})

// validationRules are GraphQL's validation rules but one: a variable may
// feed an argument whatever type the script declares it with ($from:
// String, $dir: String, $users: [ID]), since LiveEngage's own type names
// are not documented; the argument's value is checked when it is read.
var validationRules = func() *rules.Rules {
	r := rules.NewDefaultRules()
	r.RemoveRule(rules.VariablesInAllowedPositionRule.Name)
	return r
}()
