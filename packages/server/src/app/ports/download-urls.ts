/** Makes the signed, expiring URL a device downloads a package from (the download transport implements it). */
export interface DownloadUrls {
  urlFor(firmware: { id: number; fileName: string; blobKey: string | null }, now: number): string;
}
