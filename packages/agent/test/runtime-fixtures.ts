// Runtime-side objects for unit tests: a container (or sandbox) as a relist lists it, and a pod.
import type { Container, Pod } from "@nodelet/runtime-api";

export function runtimeContainer(id: string, state: Container["state"]): Container {
  return {
    id: { type: "containerd", id },
    name: id,
    image: "",
    imageID: "",
    imageRef: "",
    imageRuntimeHandler: "",
    hash: "",
    state,
    createdAt: 0,
  };
}

export function runtimePod(id: string, containers: Container[], sandboxes: Container[] = []): Pod {
  return { id, name: id, namespace: "default", createdAt: 0, containers, sandboxes };
}
