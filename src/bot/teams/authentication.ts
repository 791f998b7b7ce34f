/**
 * How the bot authenticates, both ways, through botbuilder's `ConfigurationBotFrameworkAuthentication`
 * built from the bot's credentials: inbound activities' tokens are verified (any verification
 * failure is a 401), outbound connector calls carry the bot's token, and every connector client
 * is made to fail fast (./connector.ts). The test seams of `TeamsAdapterSettings.fake` plug in here.
 */
import { ConfigurationBotFrameworkAuthentication } from 'botbuilder';
import { AuthenticationConstants, AuthenticationError } from 'botframework-connector';
import type { TeamsAdapterSettings } from './adapter.js';
import { type ConnectorFactory, tuned } from './connector.js';

type Credentials = ConstructorParameters<typeof ConfigurationBotFrameworkAuthentication>[1];

/** The public cloud's Bot Framework endpoints, for when one of them is replaced (tests). */
const PUBLIC_CLOUD = {
  ToChannelFromBotLoginUrl: AuthenticationConstants.ToChannelFromBotLoginUrl,
  ToChannelFromBotOAuthScope: AuthenticationConstants.ToChannelFromBotOAuthScope,
  ToBotFromChannelTokenIssuer: AuthenticationConstants.ToBotFromChannelTokenIssuer,
  OAuthUrl: AuthenticationConstants.OAuthUrl,
  ToBotFromChannelOpenIdMetadataUrl: AuthenticationConstants.ToBotFromChannelOpenIdMetadataUrl,
  ToBotFromEmulatorOpenIdMetadataUrl: AuthenticationConstants.ToBotFromEmulatorOpenIdMetadataUrl,
  CallerId: 'urn:botframework:azure',
};

class FailFastAuthentication extends ConfigurationBotFrameworkAuthentication {
  constructor(
    config: ConstructorParameters<typeof ConfigurationBotFrameworkAuthentication>[0],
    credentials: Credentials,
    private readonly timeoutMs: number,
    private readonly serviceUrl: string | undefined,
  ) {
    super(config, credentials);
  }

  override createConnectorFactory(
    ...args: Parameters<ConfigurationBotFrameworkAuthentication['createConnectorFactory']>
  ): ConnectorFactory {
    return tuned(super.createConnectorFactory(...args), this.timeoutMs, this.serviceUrl);
  }

  override async authenticateRequest(
    ...args: Parameters<ConfigurationBotFrameworkAuthentication['authenticateRequest']>
  ): ReturnType<ConfigurationBotFrameworkAuthentication['authenticateRequest']> {
    let result: Awaited<ReturnType<ConfigurationBotFrameworkAuthentication['authenticateRequest']>>;
    try {
      result = await super.authenticateRequest(...args);
    } catch (error) {
      // A token that fails verification (a bad signature, an unknown key) is refused like a missing
      // one: 401, not the 500 botbuilder answers for errors other than its AuthenticationError.
      if (error instanceof AuthenticationError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new AuthenticationError(`Unauthorized: ${reason}`, 401);
    }
    if (!result.connectorFactory) return result;
    return { ...result, connectorFactory: tuned(result.connectorFactory, this.timeoutMs, this.serviceUrl) };
  }
}

/** Credentials whose tokens come from `token` (the test seam `fake.outboundToken`). */
function tokenCredentials(appId: string, token: () => Promise<string>): NonNullable<Credentials> {
  const factory = {
    isValidAppId: async (id = '') => id === appId,
    isAuthenticationDisabled: async () => false,
    createCredentials: async () => ({
      async signRequest<R extends { headers: { set(name: string, value: string): void } }>(resource: R) {
        resource.headers.set('authorization', `Bearer ${await token()}`);
        return resource;
      },
    }),
  };
  return factory as unknown as NonNullable<Credentials>;
}

function authConfig(settings: TeamsAdapterSettings): Record<string, string> {
  const config: Record<string, string> = {};
  if (settings.appId) {
    config.MicrosoftAppId = settings.appId;
    config.MicrosoftAppType = settings.appType === 'UserAssignedMSI' ? 'UserAssignedMsi' : settings.appType;
    if (settings.appPassword) config.MicrosoftAppPassword = settings.appPassword;
    if (settings.tenantId) config.MicrosoftAppTenantId = settings.tenantId;
  }
  if (settings.fake?.openIdMetadataUrl) {
    // Any endpoint given makes botbuilder take them all from here: the public cloud's, but one.
    Object.assign(config, PUBLIC_CLOUD, {
      ToBotFromChannelOpenIdMetadataUrl: settings.fake.openIdMetadataUrl,
    });
  }
  return config;
}

/** The authentication for these settings; connector clients time out after `timeoutMs`. */
export function createAuthentication(
  settings: TeamsAdapterSettings,
  timeoutMs: number,
): ConfigurationBotFrameworkAuthentication {
  const appId = settings.appId ?? '';
  const outboundToken = settings.fake?.outboundToken;
  const credentials = appId && outboundToken ? tokenCredentials(appId, outboundToken) : undefined;
  return new FailFastAuthentication(authConfig(settings), credentials, timeoutMs, settings.fake?.serviceUrl);
}
