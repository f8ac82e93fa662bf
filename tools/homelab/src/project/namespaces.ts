/**
 * Namespaces of Kubernetes itself. No app lives in one (an app named `default` in an
 * environment without a namespace suffix would), and the applications AppProject denies them.
 */
export const KUBERNETES_NAMESPACES: readonly string[] = ['default', 'kube-node-lease', 'kube-public', 'kube-system'];
