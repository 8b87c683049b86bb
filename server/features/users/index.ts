import type { Core, Feature } from '../../core';
import type { AppsStore } from '../apps/store';
import { createUserRights, type UserEventsPort, type UserRights } from './rights';
import { usersRouter } from './routes';
import { createUsersStore, type UserPhonePort, type UsersStore } from './store';

export type { EndUserView, UserPhonePort, UsersStore } from './store';
export type { RightsScope, UserEventsPort, UserRights } from './rights';

/** The server API over the end users of the secret key's app and mode: read, export, erase. */
export function createUsersFeature(core: Core, deps: { apps: AppsStore; events: UserEventsPort; phones?: UserPhonePort }): { feature: Feature; users: UsersStore; rights: UserRights } {
  const users = createUsersStore(core, deps.phones);
  const rights = createUserRights(core, { events: deps.events, phones: deps.phones });
  return { feature: { name: 'users', router: usersRouter({ apps: deps.apps, users, rights }) }, users, rights };
}
