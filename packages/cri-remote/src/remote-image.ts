import {
  type AuthConfig,
  type Image,
  type ImageFilter,
  ImageFsInfoRequest,
  type ImageFsInfoResponse,
  ImageServiceService,
  type ImageSpec,
  ImageStatusRequest,
  type ImageStatusResponse,
  ListImagesRequest,
  type PodSandboxConfig,
  PullImageRequest,
  RemoveImageRequest,
  StreamImagesRequest,
} from "@nodelet/cri-api";
import type { CallOptions, ImageManagerService } from "@nodelet/runtime-api";
import { Connection } from "./connection.js";
import { checkSocket, parseEndpoint } from "./endpoint.js";
import { DEFAULT_CONNECT_TIMEOUT_MS, type RemoteServiceOptions } from "./options.js";
import { notCriRuntime } from "./remote-runtime.js";
import { validateId, validateImageStatus } from "./validate.js";

const rpc = ImageServiceService;

/**
 * Connects to a CRI image service and checks it answers ImageFsInfo, as the kubelet does.
 * Rejects with InvalidEndpoint, RuntimeUnavailable or NotCriRuntime.
 */
export async function createRemoteImageService(
  endpoint: string,
  options: RemoteServiceOptions = {},
): Promise<ImageManagerService> {
  const parsed = parseEndpoint(endpoint);
  await checkSocket(parsed);
  const service = new RemoteImageService(new Connection(parsed, options));
  try {
    await service.imageFsInfo({
      signal: options.signal,
      timeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    });
  } catch (err) {
    service.close();
    throw notCriRuntime(err, endpoint, "ImageService");
  }
  return service;
}

class RemoteImageService implements ImageManagerService {
  readonly #conn: Connection;

  constructor(conn: Connection) {
    this.#conn = conn;
  }

  async listImages(filter?: ImageFilter, options?: CallOptions): Promise<Image[]> {
    const res = await this.#conn.call(
      "ListImages",
      rpc.listImages,
      ListImagesRequest.fromPartial({ filter }),
      options,
    );
    return res.images;
  }

  async *streamImages(filter?: ImageFilter, options?: CallOptions): AsyncIterable<Image[]> {
    const stream = this.#conn.stream(
      "StreamImages",
      rpc.streamImages,
      StreamImagesRequest.fromPartial({ filter }),
      options,
    );
    for await (const m of stream) yield m.images;
  }

  async imageStatus(image: ImageSpec, verbose: boolean, options?: CallOptions): Promise<ImageStatusResponse> {
    const res = await this.#conn.call(
      "ImageStatus",
      rpc.imageStatus,
      ImageStatusRequest.fromPartial({ image, verbose }),
      options,
    );
    return validateImageStatus(res);
  }

  async pullImage(
    image: ImageSpec,
    auth: AuthConfig | undefined,
    sandboxConfig: PodSandboxConfig | undefined,
    options?: CallOptions,
  ): Promise<string> {
    // No deadline: a large image can take as long as it takes; callers cancel with a signal.
    const res = await this.#conn.call(
      "PullImage",
      rpc.pullImage,
      PullImageRequest.fromPartial({ image, auth, sandboxConfig }),
      options,
      0,
    );
    return validateId("PullImage", res.imageRef);
  }

  async removeImage(image: ImageSpec, options?: CallOptions): Promise<void> {
    await this.#conn.call("RemoveImage", rpc.removeImage, RemoveImageRequest.fromPartial({ image }), options);
  }

  async imageFsInfo(options?: CallOptions): Promise<ImageFsInfoResponse> {
    return this.#conn.call("ImageFsInfo", rpc.imageFsInfo, ImageFsInfoRequest.fromPartial({}), options);
  }

  close(): void {
    this.#conn.close();
  }
}
