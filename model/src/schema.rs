//! The schema of every governance object, declared once. It drives the HCL loader's
//! checks for unknown attributes, the provider's `GetProviderSchema`, and the docs.

/// The kinds of governance object, each a resource type of the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `iom_profile`.
    Profile,
    /// `iom_blueprint`.
    Blueprint,
    /// `iom_intent`.
    Intent,
    /// `iom_contract`.
    Contract,
    /// `iom_element`.
    Element,
    /// `iom_waiver`.
    Waiver,
    /// `iom_notification`.
    Notification,
}

impl Kind {
    /// Every kind, in the order docs and the provider list them.
    pub const ALL: [Kind; 7] = [
        Kind::Profile,
        Kind::Blueprint,
        Kind::Intent,
        Kind::Contract,
        Kind::Element,
        Kind::Waiver,
        Kind::Notification,
    ];

    /// The Terraform resource type, e.g. `iom_profile`.
    pub fn resource_type(self) -> &'static str {
        self.schema().resource_type
    }

    /// The kind whose resource type is `t`.
    pub fn from_resource_type(t: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.resource_type() == t)
    }

    /// The kind's schema.
    pub fn schema(self) -> &'static ObjectSchema {
        match self {
            Kind::Profile => &PROFILE,
            Kind::Blueprint => &BLUEPRINT,
            Kind::Intent => &INTENT,
            Kind::Contract => &CONTRACT,
            Kind::Element => &ELEMENT,
            Kind::Waiver => &WAIVER,
            Kind::Notification => &NOTIFICATION,
        }
    }
}

/// The value type of an attribute, in the terms Terraform's type system uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    /// A string.
    String,
    /// A number.
    Number,
    /// A bool.
    Bool,
    /// A list of strings.
    ListOfString,
    /// A map of strings.
    MapOfString,
    /// A map of lists of strings (a profile's `groups`).
    MapOfListOfString,
    /// A list whose elements may be strings, numbers or bools (contract `enum`).
    ListOfDynamic,
}

/// Whether an attribute must be set, may be, or is set by the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Must be set.
    Required,
    /// May be set.
    Optional,
    /// Set by the provider, never by the user (`id`, `revision`).
    Computed,
}

/// One attribute of an object or block.
#[derive(Debug)]
pub struct AttributeSchema {
    /// Its name in HCL.
    pub name: &'static str,
    /// Its value type.
    pub ty: AttrType,
    /// Whether it must be set.
    pub presence: Presence,
    /// What it means, for the provider schema and the docs.
    pub description: &'static str,
    /// A secret: the provider marks it sensitive, so Terraform never shows its value.
    pub sensitive: bool,
}

impl AttributeSchema {
    /// The same attribute, marked [`AttributeSchema::sensitive`].
    const fn secret(mut self) -> AttributeSchema {
        self.sensitive = true;
        self
    }
}

/// A nested block. Blocks carry no labels: repeated blocks name themselves.
#[derive(Debug)]
pub struct BlockSchema {
    /// The block's name in HCL.
    pub name: &'static str,
    /// `true` for blocks that may repeat (a list), `false` for at most one.
    pub repeated: bool,
    /// What it means, for the provider schema and the docs.
    pub description: &'static str,
    /// Its attributes.
    pub attributes: &'static [AttributeSchema],
}

/// The schema of one kind of object: a resource type of the provider.
#[derive(Debug)]
pub struct ObjectSchema {
    /// The Terraform resource type, e.g. `iom_profile`.
    pub resource_type: &'static str,
    /// What the object means, for the provider schema and the docs.
    pub description: &'static str,
    /// Its attributes.
    pub attributes: &'static [AttributeSchema],
    /// Its nested blocks.
    pub blocks: &'static [BlockSchema],
}

impl ObjectSchema {
    /// The attribute called `name`, if the object has one.
    pub fn attribute(&self, name: &str) -> Option<&AttributeSchema> {
        self.attributes.iter().find(|a| a.name == name)
    }
    /// The block called `name`, if the object has one.
    pub fn block(&self, name: &str) -> Option<&BlockSchema> {
        self.blocks.iter().find(|b| b.name == name)
    }
}

impl BlockSchema {
    /// The attribute called `name`, if the block has one.
    pub fn attribute(&self, name: &str) -> Option<&AttributeSchema> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

const fn req(name: &'static str, ty: AttrType, description: &'static str) -> AttributeSchema {
    AttributeSchema {
        name,
        ty,
        presence: Presence::Required,
        description,
        sensitive: false,
    }
}
const fn opt(name: &'static str, ty: AttrType, description: &'static str) -> AttributeSchema {
    AttributeSchema {
        name,
        ty,
        presence: Presence::Optional,
        description,
        sensitive: false,
    }
}
const fn computed(name: &'static str, ty: AttrType, description: &'static str) -> AttributeSchema {
    AttributeSchema {
        name,
        ty,
        presence: Presence::Computed,
        description,
        sensitive: false,
    }
}

use AttrType::*;

const ID: AttributeSchema = computed(
    "id",
    String,
    "Identifier of the object in the model store: its name (a blueprint: `name@version`).",
);
const REVISION: AttributeSchema = computed(
    "revision",
    Number,
    "Model revision at which this object was last written.",
);
const NAME: AttributeSchema = req(
    "name",
    String,
    "Unique name of the object, used in references and for `terraform import`. Changing it replaces the object.",
);
const DESCRIPTION: AttributeSchema = opt(
    "description",
    String,
    "Free text for people reading the model.",
);
const OUTCOME_HELP: &str = "One of `warn`, `escalate`, `block`.";

/// `iom_profile`'s schema.
pub static PROFILE: ObjectSchema = ObjectSchema {
    resource_type: "iom_profile",
    description: "What each class of action yields in an environment, its blast-radius and change thresholds, and who may approve escalations.",
    attributes: &[
        ID,
        REVISION,
        NAME,
        DESCRIPTION,
        opt(
            "actions",
            MapOfString,
            "Outcome per action class (`create`, `update`, `replace`, `delete`, `read`, `forget`, `invoke` for Terraform 1.14+ actions, `move` for an object moved to a new address and not otherwise changed): `allow`, `warn`, `escalate` or `block`. Unspecified classes allow.",
        ),
        opt(
            "max_blast_radius",
            Number,
            "A change whose transitive blast radius exceeds this escalates.",
        ),
        opt(
            "max_changes",
            Number,
            "A plan with more changes in scope than this escalates.",
        ),
        opt(
            "on_unknown",
            String,
            "Outcome when a condition cannot be decided at plan time because it reads an unknown value. Default `escalate`.",
        ),
        opt(
            "on_drift",
            String,
            "Outcome of a check while a governed resource has unreconciled drift. Default `escalate`.",
        ),
        opt(
            "approvers",
            ListOfString,
            "Actors allowed to approve escalations; `group:NAME` names a group of `groups`.",
        ),
        opt(
            "require_distinct_approver",
            Bool,
            "When true, the actor who ran the check may not approve it.",
        ),
        opt(
            "groups",
            MapOfListOfString,
            "Approver groups: group name to its members.",
        ),
        opt(
            "approver_keys",
            MapOfString,
            "Identities proven by SSH signatures: a name (an approver, or the CI identity that signs checks) to its ed25519 public key in OpenSSH form (`ssh-ed25519 AAAA… comment`). An approval by a name bound here counts only when `approve --sign-with` signed it with that key; with `require_distinct_approver`, the check must be signed (`check --sign-with`) by a key bound here, so the comparison is between proven identities.",
        ),
        opt(
            "min_approvals",
            Number,
            "How many distinct approvers must approve an escalation under this profile. Default 1.",
        ),
    ],
    blocks: &[],
};

const RULE_ATTRS: &[AttributeSchema] = &[
    req(
        "id",
        String,
        "Identifier of the rule, unique within its blueprint; the finding's `rule`.",
    ),
    opt(
        "resource_types",
        ListOfString,
        "Resource type globs the rule applies to; empty means every type.",
    ),
    opt(
        "actions",
        ListOfString,
        "Action classes the rule applies to; empty means `create`, `update` and `replace`.",
    ),
    req(
        "condition",
        String,
        "CEL expression over `after`, `before`, `address`, `type`, `name`, `module`, `actions`, `action`, `provider`, `workspace`; true means compliant. A name outside these or a function CEL does not declare is an error at validation.",
    ),
    req("outcome", String, OUTCOME_HELP),
    opt("message", String, "One sentence shown when the rule fails."),
];

/// `iom_blueprint`'s schema.
pub static BLUEPRINT: ObjectSchema = ObjectSchema {
    resource_type: "iom_blueprint",
    description: "A named, versioned set of rules that intents reference, portable across workspaces.",
    attributes: &[
        ID,
        REVISION,
        NAME,
        req(
            "version",
            String,
            "Version of the rule set (semantic version); intents may pin it as `name@version`.",
        ),
        DESCRIPTION,
    ],
    blocks: &[
        BlockSchema {
            name: "rule",
            repeated: true,
            description: "A rule every governed change it applies to must satisfy.",
            attributes: RULE_ATTRS,
        },
        BlockSchema {
            name: "module_rule",
            repeated: true,
            description: "A rule every module call in a governed scope must satisfy (nested calls and calls with `count` or `for_each` included, each judged once at its call address).",
            attributes: MODULE_RULE_ATTRS,
        },
    ],
};

const MODULE_RULE_ATTRS: &[AttributeSchema] = &[
    req(
        "id",
        String,
        "Identifier of the rule, unique among the blueprint's module rules; the finding's `rule`.",
    ),
    req(
        "condition",
        String,
        "CEL expression over `module_call` (`address`, such as `module.app.module.db`; `source` as written in the configuration; `version`, the version constraint, `\"\"` when there is none) and `workspace`; true means compliant. A name outside these or a function CEL does not declare is an error at validation.",
    ),
    req("outcome", String, OUTCOME_HELP),
    opt("message", String, "One sentence shown when the rule fails."),
];

/// `iom_intent`'s schema.
pub static INTENT: ObjectSchema = ObjectSchema {
    resource_type: "iom_intent",
    description: "What a part of the estate is for: its purpose, owner, profile, blueprints, permitted types, critical resources and constraints.",
    attributes: &[
        ID,
        REVISION,
        NAME,
        opt(
            "purpose",
            String,
            "What the governed infrastructure is for.",
        ),
        opt("environment", String, "Environment name, such as `prod`."),
        opt("owner", String, "Owning team or person."),
        req(
            "profile",
            String,
            "Name of the `iom_profile` that decides action outcomes.",
        ),
        opt(
            "blueprints",
            ListOfString,
            "Blueprints that apply, as `name` or `name@version`.",
        ),
        opt(
            "allowed_resource_types",
            ListOfString,
            "Resource type globs permitted; a change of any other type blocks. Empty permits every type.",
        ),
        opt(
            "critical",
            ListOfString,
            "Resource address globs; any change to a match escalates at least.",
        ),
    ],
    blocks: &[
        BlockSchema {
            name: "scope",
            repeated: false,
            description: "Where the intent applies. No scope, or empty lists, govern everything.",
            attributes: &[
                opt("workspaces", ListOfString, "Workspace name globs."),
                opt(
                    "modules",
                    ListOfString,
                    "Module address prefixes, such as `module.payments`.",
                ),
            ],
        },
        BlockSchema {
            name: "constraint",
            repeated: true,
            description: "A condition every governed change must satisfy.",
            attributes: RULE_ATTRS,
        },
    ],
};

/// `iom_contract`'s schema.
pub static CONTRACT: ObjectSchema = ObjectSchema {
    resource_type: "iom_contract",
    description: "An operational contract for the module calls its `module` glob matches: typed inputs, pre-conditions, per-profile constraints and post-apply verification.",
    attributes: &[
        ID,
        REVISION,
        NAME,
        DESCRIPTION,
        req(
            "module",
            String,
            "Glob over module call addresses governed, such as `module.service*`; `\"\"` is the root module. A contract governs calls, not instances: `module.mc[*]` is every instance, another instance key is an error.",
        ),
    ],
    blocks: &[
        BlockSchema {
            name: "input",
            repeated: true,
            description: "A typed input of the module call.",
            attributes: &[
                req("name", String, "Input variable name."),
                opt(
                    "type",
                    String,
                    "`string`, `number`, `bool`, `list`, `map` or `any`.",
                ),
                opt("required", Bool, "A missing input is a violation."),
                opt("enum", ListOfDynamic, "Allowed values."),
                opt("min", Number, "Smallest allowed number."),
                opt("max", Number, "Largest allowed number."),
                opt(
                    "pattern",
                    String,
                    "Regular expression a string must match in full.",
                ),
                DESCRIPTION,
            ],
        },
        BlockSchema {
            name: "pre_condition",
            repeated: true,
            description: "A condition checked before apply.",
            attributes: &[
                req(
                    "check",
                    String,
                    "`profile_active`, `element_exists`, `no_drift`, `tcp_reachable` or `http_ok`.",
                ),
                opt(
                    "profile",
                    String,
                    "For `profile_active`: the profile that must govern the workspace.",
                ),
                opt(
                    "element",
                    String,
                    "For `element_exists`: the element that must be declared.",
                ),
                opt("target", String, "For `tcp_reachable`: `host:port`."),
                opt("url", String, "For `http_ok`: the URL to request."),
                opt(
                    "expect_status",
                    Number,
                    "For `http_ok`: the expected status (default any 2xx).",
                ),
                opt(
                    "timeout_ms",
                    Number,
                    "Time limit of a network check (default 2000).",
                ),
                opt(
                    "outcome",
                    String,
                    "Outcome when the check fails (default `block`).",
                ),
            ],
        },
        BlockSchema {
            name: "constraint",
            repeated: true,
            description: "Actions forbidden under a profile.",
            attributes: &[
                req(
                    "profile",
                    String,
                    "Profile name the constraint applies under.",
                ),
                req("forbid_actions", ListOfString, "Action classes forbidden."),
                opt(
                    "outcome",
                    String,
                    "Outcome of a forbidden action (default `block`).",
                ),
            ],
        },
        BlockSchema {
            name: "post_verify",
            repeated: true,
            description: "A probe run after a governed apply.",
            attributes: &[
                req(
                    "probe",
                    String,
                    "`http`, `tcp`, `state` or `run_record_written`.",
                ),
                opt("url", String, "For `http`: the URL to request."),
                opt("target", String, "For `tcp`: `host:port`."),
                opt(
                    "expect_status",
                    Number,
                    "For `http`: expected status (default 200).",
                ),
                opt("retries", Number, "Attempts beyond the first."),
                opt("timeout_ms", Number, "Time limit of each attempt."),
                opt(
                    "condition",
                    String,
                    "For `state`: CEL over the resulting state: `resources` maps each resource address to its attributes (`resources['aws_db_instance.main'].status == 'available'`), `state` is the whole `values` document of `terraform show -json`.",
                ),
            ],
        },
    ],
};

/// `iom_element`'s schema.
pub static ELEMENT: ObjectSchema = ObjectSchema {
    resource_type: "iom_element",
    description: "A declared part of the estate (network, identity, service, ...) and the resource addresses that make it up.",
    attributes: &[
        ID,
        REVISION,
        NAME,
        req(
            "kind",
            String,
            "`network`, `identity`, `service`, `cloud`, `data` or `other`.",
        ),
        DESCRIPTION,
        opt("owner", String, "Owning team or person."),
        opt(
            "matches",
            ListOfString,
            "Resource address globs that make up the element; `W:GLOB` names resources of another observed workspace `W`, which then join the blast radius of changes the element depends on.",
        ),
        opt(
            "depends_on_elements",
            ListOfString,
            "Names of elements this one depends on.",
        ),
    ],
    blocks: &[],
};

/// `iom_waiver`'s schema.
pub static WAIVER: ObjectSchema = ObjectSchema {
    resource_type: "iom_waiver",
    description: "A time-boxed exception: findings of one source and rule on matching addresses and workspaces are reported as waived (allowed, with the waiver named) until it expires; an expired waiver stops applying and checks warn that it expired.",
    attributes: &[
        ID,
        REVISION,
        NAME,
        DESCRIPTION,
        req(
            "source",
            String,
            "Finding source it waives, as reports show it: `profile:prod-safe`, `intent:payments-prod`, `blueprint:storage@1.0.0`, `contract:deploy-service`, `model`.",
        ),
        req(
            "rule",
            String,
            "Rule of that source it waives (`critical`, `replace`, a rule or constraint id, ...); `*` waives every rule of the source.",
        ),
        opt(
            "addresses",
            ListOfString,
            "Resource address globs it covers; empty covers every address.",
        ),
        opt(
            "workspaces",
            ListOfString,
            "Workspace name globs it covers; empty covers every workspace.",
        ),
        req(
            "reason",
            String,
            "Why the exception is acceptable, for the record.",
        ),
        req("approved_by", String, "Who approved the exception."),
        req(
            "expires",
            String,
            "When it stops applying, RFC 3339 (`2026-12-31T23:59:59Z`).",
        ),
    ],
    blocks: &[],
};

/// The words a notification's `on` may list: the `event` of the body plan-guard posts.
pub const NOTIFICATION_EVENTS: &[&str] = &["escalate", "block", "drift", "post_verify_failed"];

/// `iom_notification`'s schema.
pub static NOTIFICATION: ObjectSchema = ObjectSchema {
    resource_type: "iom_notification",
    description: "A webhook plan-guard posts to (a JSON body with a Slack-compatible `text` and the decision's structure, never a value) when a check escalates or blocks, `reconcile` holds drift, or a governed apply's post-verify fails, in the workspaces it covers. Sent besides every `--notify URL`; a failure to notify is reported and never changes a verdict.",
    attributes: &[
        ID,
        REVISION,
        NAME,
        DESCRIPTION,
        opt(
            "url",
            String,
            "The webhook's `http://` or `https://` URL. A secret (a webhook's path is its credential): sensitive, never shown by Terraform or plan-guard; it is kept in state and in the model store, so prefer `url_env`. Give `url` or `url_env`, not both.",
        )
        .secret(),
        opt(
            "url_env",
            String,
            "Name of the environment variable that holds the webhook URL where plan-guard runs, so no URL sits in state or in the store. When a command's workspace is covered, the variable must be set to an `http://` or `https://` URL: otherwise `check`, `reconcile` and `apply` stop with an error before they judge or apply anything, rather than stay silent.",
        ),
        req(
            "on",
            ListOfString,
            "The events to post: `escalate`, `block` (a check's verdict), `drift` (`reconcile` holds governed drift), `post_verify_failed` (a probe failed after a governed apply). At least one.",
        ),
        opt(
            "workspaces",
            ListOfString,
            "Workspace name globs it covers; empty covers every workspace.",
        ),
    ],
    blocks: &[],
};
