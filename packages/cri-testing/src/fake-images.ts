import { createHash } from "node:crypto";
import { Image, ImageFsInfoResponse, type ImageSpec } from "@nodelet/cri-api";
import { applyDefaultImageTag, millisToNanos, stripTagAndDigest } from "@nodelet/runtime-api";

// The fake's image store, answering as containerd's CRI image service does: ids are
// "sha256:<hex>", a pull adds the image under its tag, a pull of a present tag keeps its id,
// ImageStatus of an absent image is an empty answer, RemoveImage of one is not an error.

/** An image to put in the fake's store without a pull. */
export interface FakeImage {
  /** Reference as pulled, e.g. "127.0.0.1:5000/busybox:1.36"; ":latest" is added when it has no tag. */
  image: string;
  /** Bytes; default the runtime's defaultImageSize. */
  size?: number | undefined;
  /** "sha256:<64 hex>"; default derived from the reference. */
  id?: string | undefined;
  pinned?: boolean | undefined;
}

export interface ImageRecord {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: bigint;
  pinned: boolean;
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** The reference as the runtime stores it: ":latest" added when it has no tag or digest. */
function completeReference(ref: string): string {
  if (ref.startsWith("sha256:")) return ref;
  try {
    return applyDefaultImageTag(ref);
  } catch {
    return ref; // not a valid reference: it matches only itself
  }
}

export class ImageStore {
  readonly #images = new Map<string, ImageRecord>();
  readonly #defaultSize: number;

  constructor(defaultSize: number) {
    this.#defaultSize = defaultSize;
  }

  add(image: FakeImage): ImageRecord {
    const ref = completeReference(image.image);
    const existing = this.find(ref);
    if (existing && image.id === undefined) return existing;
    const id = image.id ?? `sha256:${sha256(`image:${ref}`)}`;
    const record: ImageRecord = this.#images.get(id) ?? {
      id,
      repoTags: [],
      repoDigests: [],
      size: BigInt(image.size ?? this.#defaultSize),
      pinned: image.pinned ?? false,
    };
    // A tag names one image: moving it takes it off the image it named before.
    for (const other of this.#images.values()) {
      if (other !== record) other.repoTags = other.repoTags.filter((t) => t !== ref);
    }
    if (!ref.includes("@") && !record.repoTags.includes(ref)) record.repoTags.push(ref);
    const digest = `${stripTagAndDigest(ref)}@sha256:${sha256(`manifest:${id}`)}`;
    if (!record.repoDigests.includes(digest)) record.repoDigests.push(digest);
    this.#images.set(id, record);
    return record;
  }

  /** By id (with or without "sha256:"), tag, or repo digest. */
  find(ref: string): ImageRecord | undefined {
    if (ref === "") return undefined;
    const byId = this.#images.get(ref) ?? this.#images.get(`sha256:${ref}`);
    if (byId) return byId;
    const full = completeReference(ref);
    for (const image of this.#images.values()) {
      if (image.repoTags.includes(full) || image.repoDigests.includes(ref)) return image;
    }
    return undefined;
  }

  remove(ref: string): boolean {
    const image = this.find(ref);
    if (!image) return false;
    this.#images.delete(image.id);
    return true;
  }

  list(filter: ImageSpec | undefined): Image[] {
    const wanted = filter?.image ? this.find(filter.image) : undefined;
    if (filter?.image && !wanted) return [];
    return [...this.#images.values()].filter((i) => !wanted || i === wanted).map(toImage);
  }

  fsInfo(nowMs: number, mountpoint: string): ImageFsInfoResponse {
    let used = 0n;
    for (const i of this.#images.values()) used += i.size;
    return ImageFsInfoResponse.fromPartial({
      imageFilesystems: [
        {
          timestamp: millisToNanos(nowMs),
          fsId: { mountpoint },
          usedBytes: { value: used },
          inodesUsed: { value: BigInt(this.#images.size) },
        },
      ],
      containerFilesystems: [],
    });
  }
}

export function toImage(record: ImageRecord): Image {
  return Image.fromPartial({
    id: record.id,
    repoTags: [...record.repoTags],
    repoDigests: [...record.repoDigests],
    size: record.size,
    pinned: record.pinned,
  });
}
