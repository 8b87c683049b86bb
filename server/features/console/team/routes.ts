import { z } from 'zod';
import type { Db } from '../../../db/client';
import { parse } from '../../../lib/http';
import { idParam, requireVerified, type ConsoleRouter } from '../auth/guard';
import { acceptInvitation, changeRole, createInvitation, getTenant, listInvitations, listMembers, memberRole, previewInvitation, removeMember, renameTenant, revokeInvitation } from './store';
import { audit, audited, consoleActor } from '../../audit/index';

const invitationToken = z.object({ token: z.string().regex(/^[A-Za-z0-9_-]{20,64}$/, 'is not an invitation token') });

const role = z.enum(['owner', 'admin', 'viewer']);

export function mountTeamRoutes(r: ConsoleRouter, deps: { db: Db; publicUrl: () => string }): void {
  const { db } = deps;

  r.read('/tenants/:tenantId', async (_req, _res, ctx) => ({ ...(await getTenant(db, ctx.tenantId)), role: ctx.role }));

  r.write('patch', '/tenants/:tenantId', 'owner', async (req, _res, ctx) => {
    const body = parse(z.object({ name: z.string().trim().min(1).max(100) }), req.body);
    await audited(db, consoleActor(req, ctx.account), (tx) => renameTenant(tx, ctx.tenantId, body.name),
      { tenantId: ctx.tenantId, action: 'tenant.renamed', target: { type: 'tenant', id: ctx.tenantId }, summary: { after: body.name } });
    return { ...(await getTenant(db, ctx.tenantId)), role: ctx.role };
  });

  r.read('/tenants/:tenantId/members', async (_req, _res, ctx) => ({ data: await listMembers(db, ctx.tenantId) }));

  r.write('patch', '/tenants/:tenantId/members/:accountId', 'owner', async (req, _res, ctx) => {
    const accountId = idParam(req, 'accountId', 'acc');
    await memberRole(db, ctx.tenantId, accountId);
    const body = parse(z.object({ role }), req.body);
    await audited(db, consoleActor(req, ctx.account), (tx) => changeRole(tx, ctx.tenantId, ctx.account.id, accountId, body.role),
      { tenantId: ctx.tenantId, action: 'member.role_changed', target: { type: 'account', id: accountId }, summary: { after: body.role } });
    return { data: await listMembers(db, ctx.tenantId) };
  });

  r.write('delete', '/tenants/:tenantId/members/:accountId', 'owner', async (req, _res, ctx) => {
    const accountId = idParam(req, 'accountId', 'acc');
    await audited(db, consoleActor(req, ctx.account), (tx) => removeMember(tx, ctx.tenantId, ctx.account.id, accountId),
      { tenantId: ctx.tenantId, action: 'member.removed', target: { type: 'account', id: accountId } });
    return undefined;
  });

  r.read('/tenants/:tenantId/invitations', async (_req, _res, ctx) => ({ data: await listInvitations(db, ctx.tenantId) }));

  r.write('post', '/tenants/:tenantId/invitations', 'owner', async (req, res, ctx) => {
    const body = parse(z.object({ role: role.default('viewer') }), req.body ?? {});
    requireVerified(ctx);
    const inv = await audited(db, consoleActor(req, ctx.account), (tx) => createInvitation(tx, ctx.tenantId, ctx.account.id, body.role),
      (i) => ({ tenantId: ctx.tenantId, action: 'invitation.created', target: { type: 'invitation', id: i.id }, summary: { role: i.role } }));
    res.status(201);
    // The token rides in the fragment: browsers never send it to a server, so it never lands in a log.
    return { id: inv.id, role: inv.role, expiresAt: inv.expiresAt, url: `${deps.publicUrl()}/console/invite#${inv.token}` };
  });

  r.write('delete', '/tenants/:tenantId/invitations/:invitationId', 'owner', async (req, _res, ctx) => {
    const invitationId = idParam(req, 'invitationId', 'inv');
    await audited(db, consoleActor(req, ctx.account), (tx) => revokeInvitation(tx, ctx.tenantId, invitationId),
      { tenantId: ctx.tenantId, action: 'invitation.revoked', target: { type: 'invitation', id: invitationId } });
    return undefined;
  });

  // Signed out too: the person deciding whether to sign up should know what they are joining.
  // POST, so the token stays out of URLs and logs.
  r.open('post', '/invitations/preview', async (req) => previewInvitation(db, parse(invitationToken, req.body).token));

  r.account('post', '/invitations/accept', async (req, _res, ctx) => {
    const body = parse(invitationToken, req.body);
    const m = await acceptInvitation(db, body.token, ctx.account.id);
    await audit(db, consoleActor(req, ctx.account), { tenantId: m.tenantId, action: 'member.joined', target: { type: 'account', id: ctx.account.id }, summary: { role: m.role } });
    return { tenant: await getTenant(db, m.tenantId), role: m.role };
  });
}
