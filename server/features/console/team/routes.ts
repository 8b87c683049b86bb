import { z } from 'zod';
import type { Db } from '../../../db/client';
import { parse } from '../../../lib/http';
import { idParam, type ConsoleRouter } from '../auth/guard';
import { acceptInvitation, changeRole, createInvitation, getTenant, listInvitations, listMembers, memberRole, previewInvitation, removeMember, renameTenant, revokeInvitation } from './store';

const invitationToken = z.object({ token: z.string().regex(/^[A-Za-z0-9_-]{20,64}$/, 'is not an invitation token') });

const role = z.enum(['owner', 'admin', 'viewer']);

export function mountTeamRoutes(r: ConsoleRouter, deps: { db: Db; publicUrl: () => string }): void {
  const { db } = deps;

  r.read('/tenants/:tenantId', async (_req, _res, ctx) => ({ ...(await getTenant(db, ctx.tenantId)), role: ctx.role }));

  r.write('patch', '/tenants/:tenantId', 'owner', async (req, _res, ctx) => {
    const body = parse(z.object({ name: z.string().trim().min(1).max(100) }), req.body);
    await renameTenant(db, ctx.tenantId, body.name);
    return { ...(await getTenant(db, ctx.tenantId)), role: ctx.role };
  });

  r.read('/tenants/:tenantId/members', async (_req, _res, ctx) => ({ data: await listMembers(db, ctx.tenantId) }));

  r.write('patch', '/tenants/:tenantId/members/:accountId', 'owner', async (req, _res, ctx) => {
    const accountId = idParam(req, 'accountId', 'acc');
    await memberRole(db, ctx.tenantId, accountId);
    const body = parse(z.object({ role }), req.body);
    await changeRole(db, ctx.tenantId, ctx.account.id, accountId, body.role);
    return { data: await listMembers(db, ctx.tenantId) };
  });

  r.write('delete', '/tenants/:tenantId/members/:accountId', 'owner', async (req, _res, ctx) => {
    await removeMember(db, ctx.tenantId, ctx.account.id, idParam(req, 'accountId', 'acc'));
    return undefined;
  });

  r.read('/tenants/:tenantId/invitations', async (_req, _res, ctx) => ({ data: await listInvitations(db, ctx.tenantId) }));

  r.write('post', '/tenants/:tenantId/invitations', 'owner', async (req, res, ctx) => {
    const body = parse(z.object({ role: role.default('viewer') }), req.body ?? {});
    const inv = await createInvitation(db, ctx.tenantId, ctx.account.id, body.role);
    res.status(201);
    // The token rides in the fragment: browsers never send it to a server, so it never lands in a log.
    return { id: inv.id, role: inv.role, expiresAt: inv.expiresAt, url: `${deps.publicUrl()}/console/invite#${inv.token}` };
  });

  r.write('delete', '/tenants/:tenantId/invitations/:invitationId', 'owner', async (req, _res, ctx) => {
    await revokeInvitation(db, ctx.tenantId, idParam(req, 'invitationId', 'inv'));
    return undefined;
  });

  // Signed out too: the person deciding whether to sign up should know what they are joining.
  // POST, so the token stays out of URLs and logs.
  r.open('post', '/invitations/preview', async (req) => previewInvitation(db, parse(invitationToken, req.body).token));

  r.account('post', '/invitations/accept', async (req, _res, ctx) => {
    const body = parse(invitationToken, req.body);
    const m = await acceptInvitation(db, body.token, ctx.account.id);
    return { tenant: await getTenant(db, m.tenantId), role: m.role };
  });
}
