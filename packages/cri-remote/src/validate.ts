import type {
  ContainerStatusResponse,
  ImageStatusResponse,
  PodSandboxStatusResponse,
  StatusResponse,
  VersionResponse,
} from "@nodelet/cri-api";
import { ErrorCode, NodeletError } from "@nodelet/runtime-api";

// The checks the kubelet's CRI client makes on answers, so that a broken runtime is reported at
// the call that received the bad answer instead of as a confusing failure later.

function invalid(rpc: string, what: string): NodeletError {
  return new NodeletError(ErrorCode.InvalidResponse, `${rpc}: the runtime's answer ${what}`, {
    details: { rpc },
  });
}

export function validateVersion(res: VersionResponse): VersionResponse {
  const missing = (["version", "runtimeName", "runtimeVersion", "runtimeApiVersion"] as const).filter(
    (k) => res[k] === "",
  );
  if (missing.length > 0) throw invalid("Version", `lacks ${missing.join(", ")}`);
  return res;
}

export function validateId(rpc: string, id: string): string {
  if (id === "") throw invalid(rpc, "has an empty id");
  return id;
}

export function validateSandboxStatus(res: PodSandboxStatusResponse): PodSandboxStatusResponse {
  const s = res.status;
  if (!s) throw invalid("PodSandboxStatus", "has no status");
  if (s.id === "") throw invalid("PodSandboxStatus", "has an empty sandbox id");
  if (!s.metadata || s.metadata.name === "" || s.metadata.namespace === "" || s.metadata.uid === "") {
    throw invalid("PodSandboxStatus", `for sandbox ${s.id} lacks metadata name, namespace or uid`);
  }
  if (s.createdAt === 0n) throw invalid("PodSandboxStatus", `for sandbox ${s.id} has no createdAt`);
  return res;
}

export function validateContainerStatus(res: ContainerStatusResponse): ContainerStatusResponse {
  const s = res.status;
  if (!s) throw invalid("ContainerStatus", "has no status");
  if (s.id === "") throw invalid("ContainerStatus", "has an empty container id");
  if (!s.metadata || s.metadata.name === "")
    throw invalid("ContainerStatus", `for ${s.id} lacks metadata.name`);
  if (s.createdAt === 0n) throw invalid("ContainerStatus", `for ${s.id} has no createdAt`);
  if (!s.image || s.image.image === "") throw invalid("ContainerStatus", `for ${s.id} lacks image.image`);
  if (s.imageRef === "") throw invalid("ContainerStatus", `for ${s.id} lacks imageRef`);
  return res;
}

export function validateImageStatus(res: ImageStatusResponse): ImageStatusResponse {
  const image = res.image;
  if (!image) return res; // absent image: a valid, empty answer
  if (image.id === "") throw invalid("ImageStatus", "has an image without id");
  if (image.size === 0n) throw invalid("ImageStatus", `for ${image.id} has size 0`);
  return res;
}

export function validateStatus(res: StatusResponse): StatusResponse {
  const types = new Set(res.status?.conditions.map((c) => c.type) ?? []);
  if (!types.has("RuntimeReady") || !types.has("NetworkReady")) {
    throw invalid("Status", "does not set the RuntimeReady and NetworkReady conditions");
  }
  return res;
}

export function validateUrl(rpc: string, url: string): string {
  if (url === "") throw invalid(rpc, "has an empty streaming URL");
  return url;
}
