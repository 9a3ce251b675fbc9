import { createHash } from 'node:crypto';
import { DEFAULT_DOWNLOAD_URL_LIFETIME_SECONDS, type DownloadUrlSigner } from './download-url.js';

export interface NginxSecureLinkSignerOptions {
  /** Origin (and optional path prefix) of the nginx server, e.g. `https://files.example.com`. */
  baseUrl: string;
  /** The secret that follows `$uri ` in the `secure_link_md5` directive. */
  secret: string;
  /** Path of the nginx location, default `/firmware`. */
  locationPrefix?: string;
  /** Default {@link DEFAULT_DOWNLOAD_URL_LIFETIME_SECONDS}. */
  lifetimeSeconds?: number;
}

/**
 * URLs for an nginx that serves the filesystem blob store directly with the `secure_link` module (md5
 * variant), for sites that want downloads off the Node process. It matches this configuration, where
 * `/var/lib/aloft/blobs` is the `FilesystemBlobStore` root and `s3cret` the `secret` option (checked
 * against nginx 1.22: valid URL 200 byte-exact with Range support; expired, edited or renamed URL 403):
 *
 * ```nginx
 * location ~ "^/firmware/(?<aloft_blob>[0-9a-f]{32})/[^/]+$" {   # quoted: the regex has braces
 *     secure_link $arg_md5,$arg_expires;
 *     secure_link_md5 "$secure_link_expires$uri s3cret";
 *     if ($secure_link = "")  { return 403; }   # bad hash
 *     if ($secure_link = "0") { return 403; }   # expired
 *     alias /var/lib/aloft/blobs/$aloft_blob;
 *     default_type application/octet-stream;
 *     gzip off;
 *     etag off;    # nginx's ETag is mtime-size, not the sha256 the built-in route sends
 * }
 * ```
 *
 * The URL is `<baseUrl><prefix>/<blob key>/<file name>?md5=<base64url md5>&expires=<unix s>`, and the
 * hash covers `<expires><decoded path> <secret>` exactly as `secure_link_md5` above computes it. The
 * blob key (not the firmware id) is in the path because nginx maps it to the file. File names must not
 * contain `/` (nginx decodes `%2F` in `$uri`, so the location would not match).
 *
 * md5 is what nginx offers; it is weaker than the built-in HMAC-SHA256, which is why this is opt-in.
 */
export function createNginxSecureLinkSigner(options: NginxSecureLinkSignerOptions): DownloadUrlSigner {
  const lifetimeSeconds = options.lifetimeSeconds ?? DEFAULT_DOWNLOAD_URL_LIFETIME_SECONDS;
  const base = new URL(options.baseUrl);
  const basePath = decodeURIComponent(base.pathname).replace(/\/+$/, '');
  const prefix = (options.locationPrefix ?? '/firmware').replace(/\/+$/, '');
  return {
    urlFor(firmware, now) {
      if (firmware.blobKey === undefined) {
        throw new TypeError(`The nginx secure_link signer needs the blob key of firmware ${firmware.id}`);
      }
      if (firmware.fileName.includes('/')) {
        throw new TypeError(`File name ${JSON.stringify(firmware.fileName)} cannot be served by nginx`);
      }
      const expires = Math.floor(now.getTime() / 1000) + lifetimeSeconds;
      const path = `${basePath}${prefix}/${firmware.blobKey}/${firmware.fileName}`;
      const md5 = createHash('md5').update(`${expires}${path} ${options.secret}`).digest('base64url');
      const encodedPath = path.split('/').map(encodeURIComponent).join('/');
      return `${base.origin}${encodedPath}?md5=${md5}&expires=${expires}`;
    },
  };
}
