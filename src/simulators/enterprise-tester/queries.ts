/**
 * Which fields each collection can be queried on: TQL schemas for the TQL collections and
 * OData property types for the OData ones. ET's real TQL field list for runs is not published
 * (only `Status`, `Project`, `Package`, `Id`, `Name`, `LastUpdatedAt` appear in vendor
 * examples); the rest below are the run facts a client needs, under the names the JSON uses.
 * Reference fields match a name or an id, as the examples use both `Project = "X"` and
 * `Project = '{guid}'`: projects by Name or Id, packages by Name, `Root|Child` path or Id, users
 * (`RunBy`, `AssignedTo`, `CreatedBy`) by login name or Id. Not by slug or display name: that
 * is unverified, and accepting it here would hide a client bug a real server would expose.
 */
import type { EtExecutionPackage, EtScriptAssignment, EtScriptRun } from './model';
import type { ODataProps } from './odata';
import type { TqlField, TqlScalar, TqlSchema } from './tql';
import { assignmentStatus, packagePath, type ViewContext } from './views';

const text = <T>(values: (item: T) => TqlScalar[]): TqlField<T> => ({ type: 'text', values });
const dateField = <T>(value: (item: T) => number): TqlField<T> => ({ type: 'date', values: (item) => [value(item)] });

function refs(ctx: ViewContext) {
  const user = (id: string | null): TqlScalar[] => {
    const u = id ? ctx.store.users.get(id) : undefined;
    return u ? [u.UserName, u.Id] : [null];
  };
  const pkg = (id: string): TqlScalar[] => {
    const p = ctx.store.packages.get(id);
    return p ? [p.Name, packagePath(ctx, p), p.Id] : [null];
  };
  const project = (id: string | undefined): TqlScalar[] => {
    const p = id ? ctx.store.projects.get(id) : undefined;
    return p ? [p.Name, p.Id] : [null];
  };
  const assignment = (id: string) => ctx.store.assignments.get(id);
  const packageOf = (assignmentId: string) => {
    const a = assignment(assignmentId);
    return a ? ctx.store.packages.get(a.PackageId) : undefined;
  };
  return { user, pkg, project, assignment, packageOf };
}

export function runTqlSchema(ctx: ViewContext): TqlSchema<EtScriptRun> {
  const r = refs(ctx);
  const scriptName = (run: EtScriptRun) => ctx.store.scripts.get(run.ScriptId)?.Name ?? null;
  return {
    id: text((run) => [run.Id]),
    project: text((run) => r.project(r.packageOf(run.AssignmentId)?.ProjectId)),
    projectid: text((run) => [r.packageOf(run.AssignmentId)?.ProjectId ?? null]),
    package: text((run) => r.pkg(r.assignment(run.AssignmentId)?.PackageId ?? '')),
    packageid: text((run) => [r.assignment(run.AssignmentId)?.PackageId ?? null]),
    assignment: text((run) => [run.AssignmentId]),
    assignmentid: text((run) => [run.AssignmentId]),
    script: text((run) => [scriptName(run), run.ScriptId]),
    scriptid: text((run) => [run.ScriptId]),
    name: text((run) => [scriptName(run)]),
    status: text((run) => [run.Status]),
    completed: { type: 'bool', values: (run) => [run.Completed] },
    scriptversion: { type: 'number', values: (run) => [run.ScriptVersion] },
    createdat: dateField((run) => run.CreatedAt),
    lastupdatedat: dateField((run) => run.LastUpdatedAt),
    createdby: text((run) => r.user(run.CreatedById)),
    createdbyid: text((run) => [run.CreatedById]),
    runby: text((run) => r.user(run.RunById)),
    runbyid: text((run) => [run.RunById]),
    lastupdatedby: text((run) => r.user(run.LastUpdatedById)),
    assignedto: text((run) => r.user(r.assignment(run.AssignmentId)?.AssignedToId ?? null)),
    assignedtoid: text((run) => [r.assignment(run.AssignmentId)?.AssignedToId ?? null]),
  };
}

export function assignmentTqlSchema(ctx: ViewContext): TqlSchema<EtScriptAssignment> {
  const r = refs(ctx);
  const projectId = (a: EtScriptAssignment) => ctx.store.packages.get(a.PackageId)?.ProjectId;
  const scriptName = (a: EtScriptAssignment) => ctx.store.scripts.get(a.ScriptId)?.Name ?? null;
  return {
    id: text((a) => [a.Id]),
    name: text((a) => [scriptName(a)]),
    project: text((a) => r.project(projectId(a))),
    projectid: text((a) => [projectId(a) ?? null]),
    package: text((a) => r.pkg(a.PackageId)),
    packageid: text((a) => [a.PackageId]),
    script: text((a) => [scriptName(a), a.ScriptId]),
    scriptid: text((a) => [a.ScriptId]),
    status: text((a) => [assignmentStatus(ctx, a)]),
    assignedto: text((a) => r.user(a.AssignedToId)),
    assignedtoid: text((a) => [a.AssignedToId]),
    ordernumber: { type: 'number', values: (a) => [a.OrderNumber] },
  };
}

export function packageTqlSchema(ctx: ViewContext): TqlSchema<EtExecutionPackage> {
  const r = refs(ctx);
  return {
    id: text((p) => [p.Id]),
    name: text((p) => [p.Name, packagePath(ctx, p)]),
    project: text((p) => r.project(p.ProjectId)),
    projectid: text((p) => [p.ProjectId]),
    parent: text((p) => (p.ParentId ? r.pkg(p.ParentId) : [null])),
    parentid: text((p) => [p.ParentId]),
    stereotype: text((p) => [p.Stereotype]),
    ordernumber: { type: 'number', values: (p) => [p.OrderNumber] },
  };
}

export const PROJECT_PROPS: ODataProps = {
  Id: 'guid',
  Name: 'string',
  OrganisationId: 'guid',
  OrganisationName: 'string',
  ProjectCategoryId: 'guid',
  ProjectCategoryName: 'string',
  Description: 'string',
  EstimatedEndDate: 'date',
  ManagerId: 'guid',
  ManagerUserName: 'string',
  Slug: 'string',
  AutoNumberRequirements: 'bool',
  AutoNumberScripts: 'bool',
  Independent: 'bool',
  RequirementNumberReadOnly: 'bool',
  ScriptNumberReadOnly: 'bool',
  OrderNumber: 'number',
  StartDate: 'date',
  ProjectTypeId: 'guid',
};

export const USER_PROPS: ODataProps = {
  Id: 'guid',
  UserName: 'string',
  Email: 'string',
  FirstName: 'string',
  LastName: 'string',
  Phone: 'string',
  LastLogIn: 'date',
  Enabled: 'bool',
  IsExternal: 'bool',
};

export const RUN_PROPS: ODataProps = {
  Id: 'guid',
  ActualDuration: 'string',
  ScriptId: 'guid',
  ScriptVersion: 'number',
  AssignmentId: 'guid',
  CreatedAt: 'date',
  LastUpdatedAt: 'date',
  CreatedById: 'guid',
  CreatedBy: 'string',
  RunById: 'guid',
  RunBy: 'string',
  LastUpdatedById: 'guid',
  LastUpdatedBy: 'string',
  Status: 'string',
  Completed: 'bool',
};

export const PACKAGE_PROPS: ODataProps = {
  Id: 'guid',
  ParentId: 'guid',
  ProjectId: 'guid',
  Name: 'string',
  Stereotype: 'string',
  OrderNumber: 'number',
};
