// image-manager: pulls through the manager (keyring, limits, events) against direct CRI PullImage
// calls, and ensureImageExists on a present image against a bare ImageStatus.
import {
  ImageSpec,
  ImageStatusRequest,
  ImageServiceService as imageSvc,
  PullImageRequest,
} from "@nodelet/cri-api";
import { createRemoteImageService } from "@nodelet/cri-remote";
import { createImageManager } from "@nodelet/image-manager";
import { createBareClient } from "./cri-floor.mjs";
import { latencyRow, throughputRow, withConcurrency } from "./harness.mjs";

export async function imageManagerSuite(env) {
  const images = await createRemoteImageService(env.criEndpoint);
  const bare = createBareClient(env.criEndpoint);
  const call = bare.call;
  const refs = env.images.bench;
  const removeBenchImages = async () => {
    for (const image of refs)
      await images.removeImage(ImageSpec.fromPartial({ image })).catch(() => undefined);
  };
  const pod = {
    metadata: { name: "bench", namespace: "bench", uid: "bench-images" },
    spec: { containers: [] },
  };
  const serial = createImageManager({ images, serializeImagePulls: true, registryPullQPS: 0 });
  const parallel = createImageManager({
    images,
    serializeImagePulls: false,
    maxParallelImagePulls: 4,
    registryPullQPS: 0,
  });
  const ensureAll = (manager) =>
    Promise.all(
      refs.map((image) =>
        manager.ensureImageExists(pod, { name: "c", image, imagePullPolicy: "Always" }, [], undefined),
      ),
    );
  const barePull = (image) => call(imageSvc.pullImage, PullImageRequest.fromPartial({ image: { image } }));

  const rows = [];
  try {
    rows.push(
      await throughputRow("10 distinct images, serial", {
        items: 10,
        rounds: 4,
        setup: removeBenchImages,
        ours: () => ensureAll(serial),
        bare: () => withConcurrency(refs, 1, barePull),
      }),
    );
    rows.push(
      await throughputRow("10 distinct images, parallel(4)", {
        items: 10,
        rounds: 4,
        setup: removeBenchImages,
        ours: () => ensureAll(parallel),
        bare: () => withConcurrency(refs, 4, barePull),
      }),
    );
    const present = env.images.busybox;
    const container = { name: "c", image: present, imagePullPolicy: "IfNotPresent" };
    rows.push(
      await latencyRow("ensureImageExists, image present", {
        iterations: 300,
        ours: () => serial.ensureImageExists(pod, container, [], undefined),
        bare: () => call(imageSvc.imageStatus, ImageStatusRequest.fromPartial({ image: { image: present } })),
      }),
    );
  } finally {
    // Leave the bench images in place for the test suites that use them.
    for (const image of refs) await images.pullImage(ImageSpec.fromPartial({ image }), undefined, undefined);
    images.close();
    bare.close();
  }
  return rows;
}
