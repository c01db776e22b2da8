// Plays the browser in an OIDC login against Dex's mockCallback connector (no form to fill): follows
// the provider's redirects from the authorization URL until one points at `stopAt` (the client's
// redirect URI) and returns that URL, which carries ?code=…&state=….
import https from 'node:https';

export async function followRedirects(start: string, ca: string, stopAt: string): Promise<string> {
  let url = start;
  for (let hop = 0; hop < 10; hop++) {
    if (url.startsWith(stopAt)) return url;
    url = await new Promise<string>((resolve, reject) =>
      https
        .get(url, { ca }, (r) => {
          r.resume();
          const loc = r.headers.location;
          if (!loc) reject(new Error(`the provider answered ${r.statusCode} at ${url} without a redirect`));
          else resolve(new URL(loc, url).toString());
        })
        .on('error', reject),
    );
  }
  throw new Error('too many redirects');
}
