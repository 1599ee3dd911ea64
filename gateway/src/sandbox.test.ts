import { parse } from 'graphql';
import { readManifest } from './operations';
import { SANDBOX_OPERATIONS, SANDBOX_SIGN_IN, sandboxDocument, sandboxLandingPage } from './sandbox';

/** The HTML the landing page plugin serves, and the Sandbox configuration embedded in its script. */
async function landingPage() {
  const hooks = await sandboxLandingPage().serverWillStart!({} as never);
  const page = await (hooks as { renderLandingPage(): Promise<{ html: string | (() => Promise<string>) }> }).renderLandingPage();
  const html = typeof page.html === 'string' ? page.html : await page.html();
  const json = /var embeddedSandboxConfig = (\{.*\});/.exec(html)?.[1];
  return { html, config: JSON.parse(json ?? 'null') };
}

describe('the development landing page (Apollo Sandbox)', () => {
  it('opens on the contract’s sign-in operations, the demo patient’s credentials and an Authorization header to fill', async () => {
    const { html, config } = await landingPage();
    expect(html).toMatch(/embeddable-sandbox/);
    expect(config.initialState.document).toBe(sandboxDocument());
    expect(config.initialState.document).toContain('mutation SignInWithDsLogon($username: String!, $password: String!)');
    expect(config.initialState.variables).toEqual(SANDBOX_SIGN_IN);
    expect(config.initialState.headers).toEqual({ Authorization: 'Bearer ' });
  });

  it('has Sandbox’s telemetry off, cookies off and the endpoint fixed', async () => {
    const { config } = await landingPage();
    expect(config.runTelemetry).toBe(false);
    expect(config.initialState.includeCookies).toBe(false);
    expect(config.endpointIsEditable).toBe(false);
  });

  it('holds each operation as the contract has it, and parses as one document', () => {
    const document = sandboxDocument();
    const manifest = readManifest();
    for (const name of SANDBOX_OPERATIONS) expect(document).toContain(manifest.operations.find((o) => o.name === name)!.body);
    const names = parse(document).definitions.map((d) => ('name' in d ? d.name?.value : undefined));
    expect(names).toEqual([...SANDBOX_OPERATIONS]);
  });

  it('refuses an operation the contract does not have', () => {
    expect(() => sandboxDocument({ format: 'apollo-persisted-query-manifest', version: 1, operations: [] })).toThrow(/no operation SignInWithDsLogon/);
  });
});
