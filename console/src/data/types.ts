/**
 * Shapes of the console API's answers: the contract's types (contract/), so a change of a
 * response shape there breaks this app's type-check instead of its screens.
 */
export type {
  ApiKey, App, Attempt, CodeLinkSetup, BillingPage, ConsoleEndUser as EndUser, CreatedApp, DayStats, Delivery, Endpoint, EventStatus, EventType,
  DeliveryEvent, DeliveryState, Invitation, InvitationPreview, KeyPair, LoginEvent, Me, Member, Message, Mode, Page, Role, OidcClient, CreatedOidcClient, SignUpAnswer, SigningKey, TenantRef, UserExport, VerifyAnswer, VerifyFailure,
} from '../../../contract/index.js';
export { EVENT_TYPES, ENV_VERSIONS, PHONE_NUMBER_SETTINGS, TEST_EVENT_TYPE } from '../../../contract/constants.js';
