import type { Core, Feature } from '../../core';
import type { AppsStore } from '../apps/store';
import { usersRouter } from './routes';
import { createUsersStore, type UsersStore } from './store';

export type { EndUserView, UsersStore } from './store';

/** Read-only server API over the end users of the secret key's app and mode. */
export function createUsersFeature(core: Core, deps: { apps: AppsStore }): { feature: Feature; users: UsersStore } {
  const users = createUsersStore(core);
  return { feature: { name: 'users', router: usersRouter({ apps: deps.apps, users }) }, users };
}
