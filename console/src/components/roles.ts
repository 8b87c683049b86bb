import type { Role } from '../data/types';

/** What each role may do, in the words the Team page and invitations both use. */
export const ROLE_SCOPE: Record<Role, string> = {
  owner: 'everything, including billing and members',
  admin: 'apps, keys and settings',
  viewer: 'read-only',
};
