"""The rule compiler: merges a chain of packs, child over parent, and compiles a RulePack.

Each section of the merged pack (calendar, facts, events, transitions, templates, rules) is
compiled here; the single values in them are read by ``_CompilerBase`` (in ``_compilerbase``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, cast

from followup.errors import CalendarError, RulesError, suggest
from followup.language._compilerbase import _At, _CompilerBase, _Entry, _entry
from followup.language.pack import (
    CONTACT_ADDED,
    ENTERED,
    OWNER_NAMES,
    OWNER_SETTINGS,
    AutoTransition,
    CalendarSpec,
    EventSpec,
    FactSpec,
    FactType,
    MessageSpec,
    Override,
    Rule,
    RulePack,
    TimeSpec,
    misspelt_rule,
)
from followup.language.sandbox import ExpressionError, Template, compile_condition
from followup.timing.calendar import (
    parse_time_of_day,
    parse_time_range,
    parse_weekdays,
)

#: Names every condition and template may use, beside the pack's facts.
CONTEXT_NAMES = frozenset(
    {"application", "contact", "contacts", "count", "untitled", "state", "facts", "rule", "due",
     "at"}
)


class _Compiler(_CompilerBase):
    """Merges a chain of packs (parent first) and compiles the result."""

    # -- merging -----------------------------------------------------------------

    def merge(self) -> dict[str, Any]:
        top: dict[str, tuple[Any, _At]] = {}
        states: dict[str, _At] = {}
        roles: dict[str, _At] = {}
        calendar: _Entry = {}
        facts: dict[str, tuple[Any, _At]] = {}
        events: dict[str, tuple[Any, _At]] = {}
        templates: dict[str, tuple[Any, _At]] = {}
        transitions: list[_Entry] = []
        named_transitions: dict[str, _Entry] = {}
        rules: list[_Entry] = []
        named_rules: dict[str, _Entry] = {}
        for source in reversed(self.chain):  # parent first, child last: the child wins
            value: dict[str, Any] = source.value
            root = _At(source, ())
            for key in ("description", "initial", "channels", "active"):
                if key in value:
                    top[key] = (value[key], root.sub(key))
            # A pack's name is its own: a child without one is named after its file.
            top["name"] = (value.get("name") or _stem(source.file), root.sub("name"))
            for i, s in enumerate(value.get("states", [])):
                states.setdefault(s, root.sub("states", i))
            for i, r in enumerate(value.get("roles", [])):
                roles.setdefault(r, root.sub("roles", i))
            calendar.update(_entry(value.get("calendar", {}), root.sub("calendar")))
            for group, target in (("facts", facts), ("events", events), ("templates", templates)):
                for name, spec in value.get(group, {}).items():
                    target[name] = (spec, root.sub(group, name))
            for i, spec in enumerate(value.get("transitions", [])):
                entry = _entry(spec, root.sub("transitions", i))
                name = spec.get("name")
                if name is not None and name in named_transitions:
                    named_transitions[name].update(entry)
                else:
                    transitions.append(entry)
                    if name is not None:
                        named_transitions[name] = entry
            inherited = tuple(named_rules)  # the rules of the packs this one extends
            for i, spec in enumerate(value.get("rules", [])):
                entry = _entry(spec, root.sub("rules", i))
                name = spec["name"]
                self._new_or_inherited(name, spec, inherited, root.sub("rules", i))
                if name in named_rules:
                    named_rules[name].update(entry)
                else:
                    rules.append(entry)
                    named_rules[name] = entry
        return {
            "top": top,
            "states": states,
            "roles": roles,
            "calendar": calendar,
            "facts": facts,
            "events": events,
            "templates": templates,
            "transitions": transitions,
            "rules": rules,
        }

    def _new_or_inherited(self, name: str, spec: dict[str, Any], inherited: tuple[str, ...],
                          at: _At) -> None:
        """Refuse a rule whose name is a near miss of an inherited one, unless it says
        ``new: true``: a misspelt name would add a rule and send a second reminder."""
        if spec.get("new") is True:
            if name in inherited:
                self.error(at.sub("new"), f"rule {name!r} is in the pack this one extends: "
                           "'new: true' is for a rule of its own; remove 'new' to change the "
                           "inherited rule")
            return
        meant = misspelt_rule(name, inherited) if name not in inherited else None
        if meant is not None:
            self.error(at.sub("name"), f"rule {name!r} is not in the pack this one extends, "
                       f"but its name is close to the inherited {meant!r}: write {meant!r} "
                       "to change that rule, or add 'new: true' to add a rule of its own")

    # -- compiling ---------------------------------------------------------------

    def compile(self) -> RulePack:
        m = self.merge()
        child = _At(self.chain[0], ())
        self.states: dict[str, _At] = m["states"]
        if not self.states:
            self.error(child, "the pack has no states: add 'states: [interviewed, ...]'")
        top = m["top"]
        initial = self._initial(top, child)
        self.roles: dict[str, _At] = m["roles"]
        self.facts = self._facts(m["facts"])
        self.known_names = CONTEXT_NAMES | OWNER_NAMES | set(self.facts)
        self.fields: dict[str, frozenset[str]] = {
            "application": frozenset({"id", "owner", "company", "role", "state", "created_at"}),
            "contact": frozenset({"name", "title", "role", "email", "phone"}),
            "count": frozenset(self.roles),
            "untitled": frozenset(self.roles),
            "facts": frozenset(self.facts),
            "elsewhere": frozenset(self.states),
            "applications": frozenset(self.states),
        }
        calendar = self._calendar(m["calendar"])
        self.events = self._events(m["events"])
        channels: tuple[str, ...] = tuple(top["channels"][0]) if "channels" in top else ("console",)
        active: tuple[str, ...] = ()
        if "active" in top:
            active = self.states_of(top["active"][0], top["active"][1])
        templates = self._templates(m["templates"])
        transitions = self._transitions(m["transitions"])
        rules = self._rules(m["rules"], templates, channels)
        if self.problems:
            raise RulesError(self.problems)
        return RulePack(
            name=top["name"][0],
            description=top["description"][0] if "description" in top else "",
            files=tuple(s.file for s in self.chain),
            states=tuple(self.states),
            initial=initial,
            calendar=calendar,
            channels=channels,
            roles=tuple(self.roles),
            facts=self.facts,
            events=self.events,
            transitions=tuple(transitions),
            rules=tuple(rules),
            warnings=tuple(self.warnings),
            active=active,
        )

    def _initial(self, top: dict[str, tuple[Any, _At]], child: _At) -> str:
        if "initial" not in top:
            first = next(iter(self.states), "")
            return first
        value, at = top["initial"]
        self.state(value, at)
        return cast(str, value)

    def _facts(self, facts: dict[str, tuple[Any, _At]]) -> dict[str, FactSpec]:
        self.facts = {
            name: FactSpec(name=name, type=cast(FactType, spec.get("type", "text")),
                           description=spec.get("description", ""),
                           free=spec.get("free") is True)
            for name, (spec, _at) in facts.items()
        }
        for name, (spec, at) in facts.items():
            if spec.get("free") is True and spec.get("type", "text") != "text":
                self.error(at.sub("type"), f"fact {name!r} is free text: leave out 'type', "
                           f"or drop 'free' to read it as a {spec['type']}")
            elif "type" not in spec and spec.get("free") is not True:
                self.error(at, f"fact {name!r} needs a type (datetime, date, text, bool or "
                           "number), or 'free: true' for any text a person writes")
        # Defaults are time expressions over the other facts, read once every fact is known.
        for name, (spec, at) in facts.items():
            if "default" in spec:
                default = self._fact_default(self.facts[name], spec["default"], at.sub("default"))
                if default is not None:
                    self.facts[name] = replace(self.facts[name], default=default)
        self._default_cycles(facts)
        return self.facts

    def _fact_default(self, fact: FactSpec, text: str, at: _At) -> TimeSpec | None:
        """A fact's default: ``[DURATION after] FACT``, for a datetime or date fact (a date
        fact takes the local date of the instant)."""
        if fact.type not in ("datetime", "date"):
            self.error(at, f"fact {fact.name!r} is {fact.type}: only a datetime or date fact "
                       "has a default, a time such as '1 hour after interviewed_at'")
            return None
        spec = self.timespec(str(text), at)
        if spec is not None and spec.anchor not in self.facts:
            self.error(at, f"the default of {fact.name!r} counts from {spec.anchor!r}: a "
                       "default counts from another fact, e.g. '1 hour after interviewed_at'")
            return None
        return spec

    def _default_cycles(self, facts: dict[str, tuple[Any, _At]]) -> None:
        """A default that leads back to its own fact would never have a value."""
        for name, fact in self.facts.items():
            seen = [name]
            while fact.default is not None:
                nxt = fact.default.anchor
                if nxt in seen:
                    self.error(facts[name][1].sub("default"), f"the default of {name!r} leads "
                               f"back to itself ({' -> '.join([*seen, nxt])}): record one of "
                               "them instead, or count from another fact")
                    break
                seen.append(nxt)
                fact = self.facts[nxt]

    def _calendar(self, cal: _Entry) -> CalendarSpec:
        kwargs: dict[str, Any] = {}
        ok = True

        def parse(key: str, read: Callable[[Any], Any]) -> None:
            nonlocal ok
            if key not in cal:
                return
            value, at = cal[key]
            try:
                kwargs[key] = read(value)
            except (CalendarError, ValueError) as exc:
                self.error(at, f"{key}: {exc} (found {value!r})")
                ok = False

        parse("timezone", lambda v: v)
        parse("country", lambda v: v)
        parse("subdivision", lambda v: v)
        parse("workweek", parse_weekdays)
        parse("send_window", lambda v: None if v is None else parse_time_range(v))
        parse("quiet_hours", lambda v: tuple(parse_time_range(x) for x in v))
        parse("close_of_business", lambda v: None if v is None else parse_time_of_day(v))
        for key in ("holidays", "working_days"):
            good = True
            for i, text in enumerate(cal[key][0] if key in cal else []):
                try:
                    date.fromisoformat(text)
                except ValueError:
                    self.error(cal[key][1].sub(i), f"{text!r} is not a real date: write "
                               "YYYY-MM-DD, for example 2026-12-24")
                    good = ok = False
            if good:
                parse(key, lambda v: frozenset(date.fromisoformat(d) for d in v))
        if not ok:
            return CalendarSpec()
        spec = CalendarSpec(**kwargs)
        try:  # a bad zone, country, window or date list is a load error, not a later crash
            spec.build()
        except CalendarError as exc:
            text = str(exc)
            # Point at the key the message is about; among several, the one the child set.
            keys = [k for k in ("subdivision", "country", "timezone", "holidays",
                                "working_days", "send_window", "quiet_hours", "workweek",
                                "close_of_business") if k in cal]
            named = [k for k in keys if k.replace("_", " ") in text or k in text]
            if "zone" in text and "timezone" in cal:
                named.insert(0, "timezone")
            pool = named or keys
            child = [k for k in pool if cal[k][1].source is self.chain[0]]
            choice = child or pool
            at = cal[choice[0]][1] if choice else _At(self.chain[0], ())
            self.error(at, text)
        return spec

    def _events(self, events: dict[str, tuple[Any, _At]]) -> dict[str, EventSpec]:
        out: dict[str, EventSpec] = {}
        for name, (spec, at) in events.items():
            sources = self.states_of(spec["from"], at.sub("from")) if "from" in spec else None
            dest = spec.get("to")
            if dest is not None:
                self.state(dest, at.sub("to"))
            if "role" in spec:
                self.role(spec["role"], at.sub("role"))
                if spec.get("per") != "contact":
                    self.error(at.sub("role"), "'role' needs 'per: contact' on the same event")
            guard = self.condition(spec["if"], at.sub("if")) if "if" in spec else None
            out[name] = EventSpec(
                name=name,
                per_contact=spec.get("per") == "contact",
                role=spec.get("role"),
                sources=sources,
                dest=dest,
                guard=guard,
                description=spec.get("description", ""),
            )
        return out

    def _transitions(self, entries: list[_Entry]) -> list[AutoTransition]:
        out = []
        for entry in entries:
            at = entry["from"][1] if "from" in entry else next(iter(entry.values()))[1]
            if "enabled" in entry and entry["enabled"][0] is False:
                continue
            if "from" not in entry or "to" not in entry:
                self.error(at, "a transition needs both 'from' and 'to'")
                continue
            sources = self.states_of(entry["from"][0], entry["from"][1])
            dest = entry["to"][0]
            self.state(dest, entry["to"][1])
            name = entry["name"][0] if "name" in entry else f"{'|'.join(sources)}->{dest}"
            every = did = None
            when = None
            if "when" in entry:
                value, wat = entry["when"]
                if isinstance(value, dict):
                    every, did = value["every"], value["did"]
                    self.role(every, wat.sub("every"))
                    ev = self.event(did, wat.sub("did"))
                    if ev is not None and not ev.per_contact:
                        self.error(wat.sub("did"), f"{did!r} is not a per-contact event: "
                                   "'did' needs an event declared with 'per: contact'")
                else:
                    when = self.condition(value, wat)
            after = self.duration(entry["after"][0], entry["after"][1]) if "after" in entry else None
            if ("when" in entry) == ("after" in entry):
                self.error(at, f"transition {name!r} needs exactly one of 'when' (a condition) "
                           "or 'after' (a duration)")
            guard = self.condition(entry["if"][0], entry["if"][1]) if "if" in entry else None
            out.append(AutoTransition(name=name, sources=sources, dest=dest, every=every,
                                      did=did, when=when, guard=guard, after=after))
        return out

    def _templates(
        self, templates: dict[str, tuple[Any, _At]]
    ) -> dict[str, tuple[Template | None, Template | None]]:
        out: dict[str, tuple[Template | None, Template | None]] = {}
        for name, (spec, at) in templates.items():
            subject = self.template(spec["subject"], at.sub("subject"))
            body = self.template(spec["body"], at.sub("body")) if "body" in spec else None
            out[name] = (subject, body)
        return out

    def _rules(
        self,
        entries: list[_Entry],
        templates: dict[str, tuple[Template | None, Template | None]],
        channels: tuple[str, ...],
    ) -> list[Rule]:
        out = []
        for entry in entries:
            name, nat = entry["name"]
            if "enabled" in entry and entry["enabled"][0] is False:
                continue
            get: Callable[[str], tuple[Any, _At] | None] = entry.get
            states = None
            if (w := get("while")) is not None:
                states = frozenset(self.states_of(w[0], w[1]))
            for_each = None
            if (f := get("for_each")) is not None:
                self.role(f[0], f[1])
                for_each = f[0]
            at_spec = self.timespec(entry["at"][0], entry["at"][1]) if "at" in entry else TimeSpec(
                text=ENTERED, anchor=ENTERED)
            due = None
            if (d := get("due")) is not None and d[0] is not None:
                due = self.timespec(d[0], d[1])
            not_before = None
            if (nb := get("not_before")) is not None:
                not_before = self.timespec(nb[0], nb[1])
            not_after = None
            if (na := get("not_after")) is not None:
                not_after = self.timespec(na[0], na[1])
            instead = []
            for i, o in enumerate(entry["instead"][0] if "instead" in entry else []):
                oat = entry["instead"][1].sub(i)
                fact = self.facts.get(o["if"])
                if fact is None:
                    self.error(oat.sub("if"), f"unknown fact {o['if']!r}"
                               f"{suggest(o['if'], self.facts)}; declare it under facts:")
                o_at = self.timespec(o["at"], oat.sub("at"))
                o_due = self.timespec(o["due"], oat.sub("due")) if "due" in o else None
                if o_at is not None:
                    instead.append(Override(fact=o["if"], at=o_at, due=o_due))
            every = self.duration(entry["every"][0], entry["every"][1]) if "every" in entry else None
            limit = entry["limit"][0] if "limit" in entry else None
            if limit is not None and every is None:
                self.error(entry["limit"][1], "'limit' counts repeats: add 'every: DURATION' "
                           "to this rule, or remove 'limit'")
            if every is not None and due is not None:
                self.error(entry["due"][1], "a repeating rule ('every') cannot have 'due'; "
                           "remove one of them")
            done_by = until = None
            for key in ("done_by", "until"):
                if (e := get(key)) is not None:
                    spec = self.event(e[0], e[1])
                    if spec is None:
                        continue
                    if key == "done_by":
                        done_by = e[0]
                    else:
                        until = e[0]
            scope = entry["scope"][0] if "scope" in entry else "application"
            condition = None
            if "if" in entry and (setting := self._owner_setting(entry["if"][0], scope)):
                self.error(entry["if"][1], f"{setting} is a setting of the owner, over all of "
                           "their applications: only a rule with 'scope: owner' can test it")
            elif "if" in entry:
                condition = self.condition(entry["if"][0], entry["if"][1], known=(
                    self.known_names | OWNER_SETTINGS if scope == "owner" else None))
            message = self._message(name, entry, templates, channels, nat)
            if scope == "owner":
                for key in ("while", "for_each", "at", "due", "instead", "done_by", "until",
                            "not_before", "not_after"):
                    if key in entry:
                        self.error(entry[key][1], f"a rule with 'scope: owner' runs over all of "
                                   f"one person's applications, so it cannot have {key!r}: "
                                   "remove it (it repeats 'every' after the person's latest "
                                   "application was added)")
                if every is None:
                    self.error(nat, "a rule with 'scope: owner' needs 'every: DURATION'")
                if condition is not None and condition.names - OWNER_NAMES - OWNER_SETTINGS:
                    extra = ", ".join(sorted(condition.names - OWNER_NAMES - OWNER_SETTINGS))
                    self.error(entry["if"][1], f"a rule with 'scope: owner' can test only "
                               f"{', '.join(sorted(OWNER_NAMES | OWNER_SETTINGS))}; it uses "
                               f"{extra}")
            for spec_ in (at_spec, due, not_before, not_after, *(o.at for o in instead),
                          *(o.due for o in instead)):
                if spec_ is not None and spec_.anchor == CONTACT_ADDED and for_each is None:
                    self.error(entry["at"][1] if "at" in entry else nat,
                               "'contact_added' is the time a contact was recorded: it needs "
                               "'for_each: ROLE' on the same rule")
                    break
            if at_spec is None or message is None:
                continue
            out.append(Rule(
                name=name,
                description=entry["description"][0] if "description" in entry else "",
                states=states,
                for_each=for_each,
                condition=condition,
                at=at_spec,
                due=due,
                instead=tuple(instead),
                every=every,
                limit=limit,
                done_by=done_by,
                until=until,
                any_time=bool(entry["any_time"][0]) if "any_time" in entry else False,
                not_before=not_before,
                not_after=not_after,
                message=message,
                scope="owner" if scope == "owner" else "application",
            ))
        return out

    def _owner_setting(self, text: str, scope: str) -> str | None:
        """The owner's settings (``looking``) that a condition of an application rule
        names: they mean nothing for one application, so only owner rules see them, yet
        the author deserves better than "unknown name"."""
        if scope == "owner" or not any(name in text for name in OWNER_SETTINGS):
            return None
        try:
            found = compile_condition(text, known=self.known_names | OWNER_SETTINGS,
                                      fields=self.fields, sandbox=self.sandbox)
        except ExpressionError:
            return None  # reported as it is by the compile that follows
        return ", ".join(sorted(found.names & OWNER_SETTINGS)) or None

    def _message(
        self,
        name: str,
        entry: _Entry,
        templates: dict[str, tuple[Template | None, Template | None]],
        channels: tuple[str, ...],
        nat: _At,
    ) -> MessageSpec | None:
        notify, at = entry.get("notify", ({}, nat))
        chosen = tuple(notify.get("channels", channels))
        if "template" in notify:
            tname = notify["template"]
            if tname not in templates:
                self.error(at.sub("template"), f"unknown template {tname!r}"
                           f"{suggest(tname, templates)}; add it under templates:")
                return None
            subject, body = templates[tname]
            if "subject" in notify or "body" in notify:
                self.error(at, "give either 'template' or 'subject'/'body', not both")
            if subject is None:
                return None
            return MessageSpec(subject=subject, body=body, channels=chosen, template=tname,
                               own_channels="channels" in notify)
        if "subject" in notify:
            subject_t = self.template(notify["subject"], at.sub("subject"))
            body_t = self.template(notify["body"], at.sub("body")) if "body" in notify else None
            if subject_t is None:
                return None
            return MessageSpec(subject=subject_t, body=body_t, channels=chosen,
                               own_channels="channels" in notify)
        # No message given: a plain reminder naming the rule.
        subject_t = self.template(
            f"{name.replace('-', ' ').capitalize()}: {{{{ application.company }}}}"
            "{% if contact %} ({{ contact.name }}){% endif %}", nat)
        if subject_t is None:
            return None
        return MessageSpec(subject=subject_t, body=None, channels=chosen)


def _stem(file: str) -> str:
    return Path(file).name.removesuffix(".yaml").removesuffix(".yml")
