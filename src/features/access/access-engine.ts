import { compilePattern, matchPattern, type CompiledPattern } from './access-patterns.js';
import { compileWindow, insideWindow, type CompiledWindow, type TimeRestriction } from './access-time.js';

/**
 * The access-policy engine: pure functions, no I/O. Policies only grant; a credential no policy grants is
 * invisible. Where several policies grant the same action, the most restrictive wins (docs/user-guide.md
 * section 20 states the rule): the strictest mode, every approval level of every policy, the shortest approval
 * validity, every time restriction, a TOTP step-up if any asks for one, and emergency access only if all of them allow it.
 */
export const accessActions = ['reveal', 'session', 'history'] as const;
export type AccessAction = (typeof accessActions)[number];

/** Modes in the order of strictness: each asks for everything the one before it asks for. */
export const accessModes = ['allow', 'justification', 'approval'] as const;
export type AccessMode = (typeof accessModes)[number];

export interface SubjectIds {
  users: string[];
  groups: string[];
}

export interface ApprovalLevel {
  approvers: SubjectIds;
  required: number;
}

/** How one action is granted by one policy. */
export interface ActionRule {
  mode: AccessMode;
  levels?: ApprovalLevel[];
  approvalValidMinutes?: number;
  timeRestriction?: TimeRestriction;
  emergencyAllowed: boolean;
  /** A fresh TOTP code must come with each use. */
  totpStepUp?: boolean;
}

/** Which credentials a policy covers; every field named must match: any one of the listed names, sites, types and patterns, but every listed tag. */
export interface PolicyFilters {
  deviceNames?: string[];
  deviceSites?: string[];
  deviceTypes?: string[];
  deviceTags?: string[];
  credentialUsernames?: string[];
  credentialTags?: string[];
  credentialTypes?: string[];
}

/** An access policy as the engine reads it. */
export interface AccessPolicy {
  id: string;
  enabled: boolean;
  members: SubjectIds;
  filters: PolicyFilters;
  actions: Partial<Record<AccessAction, ActionRule>>;
}

/** Who asks: the user and the groups they belong to. */
export interface Subject {
  userId: string;
  username: string;
  groupIds: readonly string[];
}

/** What is asked for: the credential and its device, with their attributes. */
export interface Target {
  device: { name: string; site: string | null; type: string | null; tags: readonly string[] };
  credential: { username: string; tags: readonly string[]; type: string };
}

interface NormalTarget {
  deviceName: string;
  site: string | null;
  type: string | null;
  deviceTags: ReadonlySet<string>;
  username: string;
  credentialTags: ReadonlySet<string>;
  credentialType: string;
}

interface CompiledLevel {
  key: string;
  approvers: SubjectIds;
  required: number;
}

interface CompiledRule {
  mode: AccessMode;
  levels: CompiledLevel[];
  validMinutes: number | null;
  window: CompiledWindow | null;
  emergencyAllowed: boolean;
  totpStepUp: boolean;
}

/** A policy compiled once when loaded: sets for members, compiled patterns and windows. */
export interface CompiledPolicy {
  id: string;
  enabled: boolean;
  users: ReadonlySet<string>;
  groups: ReadonlySet<string>;
  matches(target: NormalTarget, username: string): boolean;
  actions: Partial<Record<AccessAction, CompiledRule>>;
}

export interface ApprovalConstraint {
  approvers: SubjectIds;
  required: number;
  policyIds: string[];
}

/** Approval stage n holds level n of every matching approval policy; each of its constraints must be met. */
export interface ApprovalStage {
  level: number;
  constraints: ApprovalConstraint[];
}

/** What the matching policies ask before the action may be used. */
export interface Requirements {
  justification: boolean;
  approval: { levels: ApprovalStage[]; validMinutes: number } | null;
  timeWindow: { ok: boolean; restrictedBy: string[]; outsideOf: string[] };
  emergencyAllowed: boolean;
  totpStepUp: boolean;
}

/** The answer for one subject, target, action and instant. */
export type Decision =
  | { granted: false; reason: 'NO_MATCHING_POLICY' | 'ACTION_NOT_GRANTED'; visible: boolean; matchedPolicyIds: string[] }
  | { granted: true; mode: AccessMode; requirements: Requirements; denial: 'ACCESS_OUTSIDE_WINDOW' | null; matchedPolicyIds: string[] };

const lower = (values: readonly string[] | undefined) => (values && values.length > 0 ? new Set(values.map((v) => v.toLowerCase())) : null);
function allOf(wanted: ReadonlySet<string>, present: ReadonlySet<string>): boolean {
  for (const value of wanted) if (!present.has(value)) return false;
  return true;
}
const sorted = (values: readonly string[]) => [...new Set(values)].sort();
const anyPattern = (patterns: CompiledPattern[], text: string, username: string) => patterns.some((p) => matchPattern(p, text, username));

function compileFilters(filters: PolicyFilters): CompiledPolicy['matches'] {
  const names = filters.deviceNames?.length ? filters.deviceNames.map((p) => compilePattern(p, false)) : null;
  const usernames = filters.credentialUsernames?.length ? filters.credentialUsernames.map((p) => compilePattern(p, true)) : null;
  const sites = lower(filters.deviceSites);
  const types = lower(filters.deviceTypes);
  const deviceTags = lower(filters.deviceTags);
  const credentialTags = lower(filters.credentialTags);
  const credentialTypes = lower(filters.credentialTypes);
  // Set lookups first, patterns last: most candidates fail a cheap test.
  return (t, username) =>
    (!sites || (t.site !== null && sites.has(t.site))) &&
    (!types || (t.type !== null && types.has(t.type))) &&
    (!credentialTypes || credentialTypes.has(t.credentialType)) &&
    (!credentialTags || allOf(credentialTags, t.credentialTags)) &&
    (!deviceTags || allOf(deviceTags, t.deviceTags)) &&
    (!names || anyPattern(names, t.deviceName, username)) &&
    (!usernames || anyPattern(usernames, t.username, username));
}

function compileRule(rule: ActionRule): CompiledRule {
  const levels = rule.mode === 'approval' ? (rule.levels ?? []) : [];
  return {
    mode: rule.mode,
    levels: levels.map((level) => {
      const approvers = { users: sorted(level.approvers.users), groups: sorted(level.approvers.groups) };
      return { key: `${approvers.users.join(',')}|${approvers.groups.join(',')}`, approvers, required: level.required };
    }),
    validMinutes: rule.mode === 'approval' ? (rule.approvalValidMinutes ?? 60) : null,
    window: rule.timeRestriction ? compileWindow(rule.timeRestriction) : null,
    emergencyAllowed: rule.emergencyAllowed,
    totpStepUp: rule.totpStepUp === true,
  };
}

/** Compiles a policy once: evaluating it afterwards allocates almost nothing. */
export function compilePolicy(policy: AccessPolicy): CompiledPolicy {
  const actions: CompiledPolicy['actions'] = {};
  for (const action of accessActions) {
    const rule = policy.actions[action];
    if (rule) actions[action] = compileRule(rule);
  }
  return { id: policy.id, enabled: policy.enabled, users: new Set(policy.members.users), groups: new Set(policy.members.groups), matches: compileFilters(policy.filters), actions };
}

function normalTarget(target: Target): NormalTarget {
  return {
    deviceName: target.device.name.toLowerCase(),
    site: target.device.site?.toLowerCase() ?? null,
    type: target.device.type?.toLowerCase() ?? null,
    deviceTags: new Set(target.device.tags.map((t) => t.toLowerCase())),
    username: target.credential.username.toLowerCase(),
    credentialTags: new Set(target.credential.tags.map((t) => t.toLowerCase())),
    credentialType: target.credential.type.toLowerCase(),
  };
}

const isMember = (policy: CompiledPolicy, subject: Subject) => policy.users.has(subject.userId) || subject.groupIds.some((g) => policy.groups.has(g));

/** Approval levels of several policies, merged stage by stage; equal approver sets keep the larger count. */
function mergeApprovals(matched: { id: string; rule: CompiledRule }[]): Requirements['approval'] {
  const approving = matched.filter((m) => m.rule.mode === 'approval');
  if (approving.length === 0) return null;
  const stages: Map<string, ApprovalConstraint>[] = [];
  for (const { id, rule } of approving) {
    rule.levels.forEach((level, i) => {
      const stage = (stages[i] ??= new Map());
      const seen = stage.get(level.key);
      if (seen) {
        seen.required = Math.max(seen.required, level.required);
        seen.policyIds.push(id);
      } else {
        stage.set(level.key, { approvers: level.approvers, required: level.required, policyIds: [id] });
      }
    });
  }
  return {
    levels: stages.map((stage, i) => ({
      level: i + 1,
      constraints: [...stage.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, c]) => ({ ...c, policyIds: sorted(c.policyIds) })),
    })),
    validMinutes: Math.min(...approving.map((m) => m.rule.validMinutes ?? 60)),
  };
}

/**
 * The decision for one subject, target, action and instant. Order of the policies never matters; adding a
 * policy never makes a granted decision less restrictive (it can only grant what nothing granted before).
 */
export function decide(policies: readonly CompiledPolicy[], subject: Subject, target: Target, action: AccessAction, now: number): Decision {
  const t = normalTarget(target);
  const username = subject.username.toLowerCase();
  const matched: { id: string; rule: CompiledRule }[] = [];
  let visible = false;
  for (const policy of policies) {
    if (!policy.enabled || !isMember(policy, subject) || !policy.matches(t, username)) continue;
    visible = true;
    const rule = policy.actions[action];
    if (rule) matched.push({ id: policy.id, rule });
  }
  if (matched.length === 0) return { granted: false, reason: visible ? 'ACTION_NOT_GRANTED' : 'NO_MATCHING_POLICY', visible, matchedPolicyIds: [] };
  const rank = Math.max(...matched.map((m) => accessModes.indexOf(m.rule.mode)));
  const restricted = matched.filter((m) => m.rule.window);
  const outsideOf = sorted(restricted.filter((m) => !insideWindow(m.rule.window!, now)).map((m) => m.id));
  const mode = accessModes[rank]!;
  return {
    granted: true,
    mode,
    requirements: {
      justification: mode !== 'allow',
      approval: mergeApprovals(matched),
      timeWindow: { ok: outsideOf.length === 0, restrictedBy: sorted(restricted.map((m) => m.id)), outsideOf },
      emergencyAllowed: matched.every((m) => m.rule.emergencyAllowed),
      totpStepUp: matched.some((m) => m.rule.totpStepUp),
    },
    denial: outsideOf.length > 0 ? 'ACCESS_OUTSIDE_WINDOW' : null,
    matchedPolicyIds: sorted(matched.map((m) => m.id)),
  };
}

/** Compiled policies indexed by member, so a caller's candidates are found without scanning the tenant's policies. */
export interface PolicyIndex {
  byUser: ReadonlyMap<string, CompiledPolicy[]>;
  byGroup: ReadonlyMap<string, CompiledPolicy[]>;
  size: number;
}

/** Builds the member index of a tenant's compiled policies (disabled ones are left out: they grant nothing). */
export function indexPolicies(policies: readonly CompiledPolicy[]): PolicyIndex {
  const byUser = new Map<string, CompiledPolicy[]>();
  const byGroup = new Map<string, CompiledPolicy[]>();
  const add = (map: Map<string, CompiledPolicy[]>, key: string, policy: CompiledPolicy) => (map.get(key) ?? map.set(key, []).get(key)!).push(policy);
  for (const policy of policies) {
    if (!policy.enabled) continue;
    for (const user of policy.users) add(byUser, user, policy);
    for (const group of policy.groups) add(byGroup, group, policy);
  }
  return { byUser, byGroup, size: policies.length };
}

/** The policies naming the subject or one of their groups, each once. */
export function candidatesFor(index: PolicyIndex, subject: Subject): CompiledPolicy[] {
  const found = new Set(index.byUser.get(subject.userId));
  for (const group of subject.groupIds) for (const policy of index.byGroup.get(group) ?? []) found.add(policy);
  return [...found];
}
