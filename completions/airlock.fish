# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_airlock_global_optspecs
    string join \n q/quiet v/verbose no-progress h/help V/version
end

function __fish_airlock_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_airlock_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_airlock_using_subcommand
    set -l cmd (__fish_airlock_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c airlock -n "__fish_airlock_needs_command" -s q -l quiet -d 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing'
complete -c airlock -n "__fish_airlock_needs_command" -s v -l verbose -d 'More output on stderr: every image and check'
complete -c airlock -n "__fish_airlock_needs_command" -l no-progress -d 'Never draw progress bars (they are drawn only when stderr is a terminal)'
complete -c airlock -n "__fish_airlock_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c airlock -n "__fish_airlock_needs_command" -s V -l version -d 'Print version'
complete -c airlock -n "__fish_airlock_needs_command" -f -a "verify" -d 'Verify a bundle from local files only'
complete -c airlock -n "__fish_airlock_needs_command" -f -a "export" -d 'Write images, their signatures and the trust material into one bundle'
complete -c airlock -n "__fish_airlock_needs_command" -f -a "import" -d 'Verify a bundle, then push it into a registry with its signatures'
complete -c airlock -n "__fish_airlock_needs_command" -f -a "inspect" -d 'List the images, platforms, referrers and blobs of a bundle'
complete -c airlock -n "__fish_airlock_needs_command" -f -a "inventory" -d 'Write what the site already holds (from its registry, or from bundles on disk), for `export --since`'
complete -c airlock -n "__fish_airlock_needs_command" -f -a "split" -d 'Cut a tarball bundle into parts that fit the media, with a parts manifest'
complete -c airlock -n "__fish_airlock_needs_command" -f -a "sign" -d 'Sign an image of an OCI image layout directory, as `notation sign --oci-layout` does'
complete -c airlock -n "__fish_airlock_needs_command" -f -a "receipt" -d 'Check a verification receipt offline (`airlock receipt verify FILE`)'
complete -c airlock -n "__fish_airlock_needs_command" -f -a "fixture" -d 'Write a deterministic sample bundle (for the README, tests and benchmarks)'
complete -c airlock -n "__fish_airlock_needs_command" -f -a "pack" -d 'Pack a layout directory into a deterministic .tar, .tar.gz or .tar.zst'
complete -c airlock -n "__fish_airlock_needs_command" -f -a "completions" -d 'Print a shell completion script (bash, zsh, fish, powershell) on stdout'
complete -c airlock -n "__fish_airlock_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c airlock -n "__fish_airlock_using_subcommand verify" -l pin -d 'Use the trust artifact the bundle carries, but only the one whose manifest digest is this value: the `--pin sha256:...` that `airlock export` printed, carried out of band. The digest authenticates the artifact\'s trust policy, certificates, TSA roots, CRLs and export record; the record then decides which images pass under which names. Repeatable (any one may match). A root certificate\'s fingerprint is not a pin: put the root in a local trust store' -r
complete -c airlock -n "__fish_airlock_using_subcommand verify" -l trust-policy -d 'Trust policy document (notation trustpolicy.json / trustpolicy.oci.json, version 1.0)' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand verify" -l trust-store -d 'Trust store: the folder holding x509/{ca,signingAuthority,tsa}/NAME/*.{crt,cer,pem}' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand verify" -l notation-config -d 'A notation configuration folder: trustpolicy.oci.json (or trustpolicy.json) and truststore/' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand verify" -l scope -d 'Registry scope (REGISTRY/REPO) matched against the policy\'s registryScopes, for every image. Default: each image\'s recorded source repository' -r
complete -c airlock -n "__fish_airlock_using_subcommand verify" -l at -d 'Verification time (RFC 3339). Default: now' -r
complete -c airlock -n "__fish_airlock_using_subcommand verify" -l crl -d 'A CRL (PEM or DER) to check certificates against; repeatable. Nothing is fetched' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand verify" -l user-metadata -d 'User metadata the signed payload must carry (as notation verify -m); repeatable' -r
complete -c airlock -n "__fish_airlock_using_subcommand verify" -l format -d 'Output format: a human summary on stderr, or the JSON report on stdout' -r -f -a "text\t'Human summary on stderr'
json\t'The JSON report on stdout'"
complete -c airlock -n "__fish_airlock_using_subcommand verify" -l report -d 'Also write the JSON report to FILE (written to a temporary name, then renamed)' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand verify" -l manifest -d 'The parts manifest, when it is not beside the part (--parts-only)' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand verify" -l base -d 'Bundles or layouts holding blobs a differential bundle left out (`export --since`): each is re-hashed, and a blob the bundle lacks is taken from it when its content matches its digest, so that the verdict covers every blob; repeatable' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand verify" -l receipt -d 'Write a verification receipt to FILE: an in-toto Statement v1 with a SLSA Verification Summary v1 predicate (subjects: the verified images; verdict PASSED or FAILED), written also when verification fails. Temporary name, then rename' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand verify" -l receipt-key -d 'Sign the receipt with this key (as `airlock sign --key`): verify writes the Notary envelope to FILE.sig; import also pushes, for each image it admits, a signed receipt attached to it' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand verify" -l receipt-cert -d 'The receipt key\'s certificate chain, PEM, leaf first (as `airlock sign --cert`)' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand verify" -l receipt-envelope -d 'The receipt signature\'s envelope format' -r -f -a "jws\t'JWS JSON serialization (application/jose+json), notation\'s default'
cose\t'COSE_Sign1 (application/cose)'"
complete -c airlock -n "__fish_airlock_using_subcommand verify" -l integrity-only -d 'Check integrity only (digests, sizes, descriptors, layout), without signatures'
complete -c airlock -n "__fish_airlock_using_subcommand verify" -l trust-bundled -d 'Use the bundle\'s trust artifact without a pin: the report says `bundled-unpinned` and the summary warns that trust is then anchored in the bundle itself (whoever carried the bundle chose the policy and the roots)'
complete -c airlock -n "__fish_airlock_using_subcommand verify" -l parts-only -d 'Check only the parts of a split bundle, as they arrive: BUNDLE is the parts manifest (NAME.parts.json), the folder holding the parts, or one part file NAME.NNN (only that part is checked). Each present part\'s size and sha256 is compared with the manifest and each missing one named; exit 0 only when every part checked is present and good. No trust anchor is needed: this is not the verification of the bundle'
complete -c airlock -n "__fish_airlock_using_subcommand verify" -s q -l quiet -d 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing'
complete -c airlock -n "__fish_airlock_using_subcommand verify" -s v -l verbose -d 'More output on stderr: every image and check'
complete -c airlock -n "__fish_airlock_using_subcommand verify" -l no-progress -d 'Never draw progress bars (they are drawn only when stderr is a terminal)'
complete -c airlock -n "__fish_airlock_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c airlock -n "__fish_airlock_using_subcommand export" -s f -l file -d 'Read more sources from FILE, one per line (`#` starts a comment)' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand export" -s o -l output -d 'Output: DIR (a layout directory), FILE.tar, FILE.tar.zst, FILE.tar.gz, or - (a tar on stdout). Required unless the bundle file (--config) names one; given here, it wins' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand export" -l config -d 'A bundle file (TOML): images with their platforms, referrer selection, required signature and trusted identity; trust material; registry and output settings. Relative paths in it are relative to its folder. Sources named here or with -f are added after its images; other options combine with it as README.md, "Bundle file and lockfile", says' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand export" -l lock -d 'Write the lockfile: the digest every image resolved to and every referrer carried, by subject (JSON, written to a temporary name and renamed). With --locked, the lock to check' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand export" -l platform -d 'Keep only this platform (os/arch[/variant]) of multi-platform images; repeatable. The index stays byte-identical; the children left out are recorded' -r
complete -c airlock -n "__fish_airlock_using_subcommand export" -l referrers -d 'Which referrers travel: all (signatures, SBOMs, attestations, and their own referrers, recursively; cosign\'s sha256-<hex>.sig/.att/.sbom tags), none, or only those of these artifact types (comma-separated, e.g. application/vnd.cncf.notary.signature)' -r
complete -c airlock -n "__fish_airlock_using_subcommand export" -l trust-policy -d 'Trust policy document (notation trustpolicy.json / trustpolicy.oci.json, version 1.0)' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand export" -l trust-store -d 'Trust store: the folder holding x509/{ca,signingAuthority,tsa}/NAME/*.{crt,cer,pem}' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand export" -l notation-config -d 'A notation configuration folder: trustpolicy.oci.json (or trustpolicy.json) and truststore/' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand export" -l crl -d 'A CRL (PEM or DER) to carry; repeatable' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand export" -l scope -d 'Registry scope (REGISTRY/REPO) to verify the captured signatures against, for images whose recorded name has no repository (local layouts tagged `v1`, say)' -r
complete -c airlock -n "__fish_airlock_using_subcommand export" -l plain-http -d 'Speak plain HTTP (no TLS) to these hosts (HOST[:PORT]); repeatable. Loopback hosts (exactly 127.0.0.1, localhost, [::1]) are plain HTTP unless another host is named here' -r
complete -c airlock -n "__fish_airlock_using_subcommand export" -l ca-file -d 'Extra CA certificates (PEM) to trust for registry HTTPS' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand export" -l registry-config -d 'Docker config.json with registry credentials (default: $DOCKER_CONFIG/config.json, then ~/.docker/config.json; credsStore and credHelpers are honoured)' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand export" -l min-rate -d 'Slowest acceptable registry transfer, in bytes per second (K, M, G: powers of 1024): a blob of SIZE bytes must arrive within --network-timeout + SIZE / RATE, retries included. 0 turns this deadline off. Default 256K' -r
complete -c airlock -n "__fish_airlock_using_subcommand export" -l network-timeout -d 'Retry budget: the longest a registry request may go without progress, all retries included; a stalled registry fails after this long. Default 60' -r
complete -c airlock -n "__fish_airlock_using_subcommand export" -s j -l jobs -d 'Blobs fetched at once. Into a directory they land in parallel; into a tarball the blob whose turn it is streams straight in, and those fetched ahead of their turn wait in a spool beside the output (at most N blobs), so the archive is byte-identical whatever N is. At most 32 (each job buffers 1 MiB). Default 4' -r
complete -c airlock -n "__fish_airlock_using_subcommand export" -l zstd-level -d 'zstd compression level for .tar.zst output, 1 to 22. Default 3. Levels above 19 need hundreds of MiB for zstd\'s own tables (per worker); their window is capped at 32 MiB' -r
complete -c airlock -n "__fish_airlock_using_subcommand export" -l since -d 'Differential export: leave out every layer these inventories (written by `airlock inventory` on the far side) list with the same digest and size; repeatable. Manifests, indexes, configs, signatures and the trust artifact are always carried; the export record lists each blob left out, which the far side\'s import requires its registry to hold' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand export" -l split -d 'Write the tarball as parts of at most SIZE bytes each, OUT.001, OUT.002, ... and the parts manifest OUT.parts.json (what `airlock split` writes from the single file, byte for byte), for media with a per-file limit. SIZE: a byte count with K, M, G, T (powers of 1024) or KB, MB, GB, TB (powers of 1000), or fat32, dvd, dvd-dl, bd25, bd50. Only for a tarball file' -r
complete -c airlock -n "__fish_airlock_using_subcommand export" -l sign-key -d 'Sign the trust artifact with this key (as `airlock sign --key`): the export signature, carried in the bundle and reported by verify as exportedBy (matched under the trust-policy scope airlock/export)' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand export" -l sign-cert -d 'The export signing key\'s certificate chain, PEM, leaf first (as `airlock sign --cert`)' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand export" -l sign-envelope -d 'The export signature\'s envelope format' -r -f -a "jws\t'JWS JSON serialization (application/jose+json), notation\'s default'
cose\t'COSE_Sign1 (application/cose)'"
complete -c airlock -n "__fish_airlock_using_subcommand export" -l format -d 'Output format of the summary: text on stderr, or JSON on stdout' -r -f -a "text\t'Human summary on stderr'
json\t'The JSON report on stdout'"
complete -c airlock -n "__fish_airlock_using_subcommand export" -l locked -d 'Refuse the export (exit 1, before anything is written) when an image now resolves to another digest than the lock\'s, or its platform manifests or referrers changed; each difference is named. The lock is not rewritten'
complete -c airlock -n "__fish_airlock_using_subcommand export" -l no-referrers -d 'Leave every referrer out: the same as --referrers none'
complete -c airlock -n "__fish_airlock_using_subcommand export" -l require-signature -d 'Fail when an image has no notation signature'
complete -c airlock -n "__fish_airlock_using_subcommand export" -l no-fetch-crls -d 'Do not fetch the CRLs the captured certificate chains name (by default they are fetched over HTTP now, checked against their issuer, and carried, so strict revocation checks pass offline)'
complete -c airlock -n "__fish_airlock_using_subcommand export" -l allow-failed-signatures -d 'Export even when a captured signature fails verification (recorded in the bundle)'
complete -c airlock -n "__fish_airlock_using_subcommand export" -l force -d 'Replace an existing output that airlock did not write (a directory that is not an airlock bundle, a regular file where a directory goes, a symbolic link): whole, and only once the new bundle is complete. Without it such an output is refused (exit 2)'
complete -c airlock -n "__fish_airlock_using_subcommand export" -s q -l quiet -d 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing'
complete -c airlock -n "__fish_airlock_using_subcommand export" -s v -l verbose -d 'More output on stderr: every image and check'
complete -c airlock -n "__fish_airlock_using_subcommand export" -l no-progress -d 'Never draw progress bars (they are drawn only when stderr is a terminal)'
complete -c airlock -n "__fish_airlock_using_subcommand export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c airlock -n "__fish_airlock_using_subcommand import" -l to -d 'The target: HOST[:PORT][/PREFIX]. SOURCE_REGISTRY/REPO:TAG becomes HOST:PORT/PREFIX/REPO:TAG' -r
complete -c airlock -n "__fish_airlock_using_subcommand import" -l map -d 'Rewrite a repository prefix: OLD=NEW; repeatable' -r
complete -c airlock -n "__fish_airlock_using_subcommand import" -l referrers -d 'How signatures are made discoverable: the Referrers API, the sha256-<hex> tag schema, or auto' -r -f -a "api\t'The registry\'s Referrers API indexes signatures by their `subject`: nothing more to do'
tag\t'Create or merge the `sha256-<hex>` referrers tag index'
auto\t'`tag` unless the target is known to serve the Referrers API (currently: always `tag`, which every registry understands; a registry with the API ignores the extra tag)'"
complete -c airlock -n "__fish_airlock_using_subcommand import" -l jobs -d 'Blobs uploaded at the same time, each over its own connection (1 to 64)' -r
complete -c airlock -n "__fish_airlock_using_subcommand import" -l spool-limit -d 'Most bytes of a tarball\'s blobs kept in $TMPDIR at once so that uploads run side by side (K, M, G: powers of 1024); past it, blobs are uploaded in stream order without spooling. 0 spools nothing' -r
complete -c airlock -n "__fish_airlock_using_subcommand import" -l pin -d 'Use the trust artifact the bundle carries, but only the one whose manifest digest is this value: the `--pin sha256:...` that `airlock export` printed, carried out of band. The digest authenticates the artifact\'s trust policy, certificates, TSA roots, CRLs and export record; the record then decides which images pass under which names. Repeatable (any one may match). A root certificate\'s fingerprint is not a pin: put the root in a local trust store' -r
complete -c airlock -n "__fish_airlock_using_subcommand import" -l trust-policy -d 'Trust policy document (notation trustpolicy.json / trustpolicy.oci.json, version 1.0)' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand import" -l trust-store -d 'Trust store: the folder holding x509/{ca,signingAuthority,tsa}/NAME/*.{crt,cer,pem}' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand import" -l notation-config -d 'A notation configuration folder: trustpolicy.oci.json (or trustpolicy.json) and truststore/' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand import" -l scope -d 'Registry scope (REGISTRY/REPO) matched against the policy\'s registryScopes, for every image. Default: each image\'s recorded source repository' -r
complete -c airlock -n "__fish_airlock_using_subcommand import" -l at -d 'Verification time (RFC 3339). Default: now' -r
complete -c airlock -n "__fish_airlock_using_subcommand import" -l crl -d 'A CRL (PEM or DER) to check certificates against; repeatable. Nothing is fetched' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand import" -l user-metadata -d 'User metadata the signed payload must carry (as notation verify -m); repeatable' -r
complete -c airlock -n "__fish_airlock_using_subcommand import" -l plain-http -d 'Speak plain HTTP (no TLS) to these hosts (HOST[:PORT]); repeatable. Loopback hosts (exactly 127.0.0.1, localhost, [::1]) are plain HTTP unless another host is named here' -r
complete -c airlock -n "__fish_airlock_using_subcommand import" -l ca-file -d 'Extra CA certificates (PEM) to trust for registry HTTPS' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand import" -l registry-config -d 'Docker config.json with registry credentials (default: $DOCKER_CONFIG/config.json, then ~/.docker/config.json; credsStore and credHelpers are honoured)' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand import" -l min-rate -d 'Slowest acceptable registry transfer, in bytes per second (K, M, G: powers of 1024): a blob of SIZE bytes must arrive within --network-timeout + SIZE / RATE, retries included. 0 turns this deadline off. Default 256K' -r
complete -c airlock -n "__fish_airlock_using_subcommand import" -l network-timeout -d 'Retry budget: the longest a registry request may go without progress, all retries included; a stalled registry fails after this long. Default 60' -r
complete -c airlock -n "__fish_airlock_using_subcommand import" -l receipt -d 'Write a verification receipt to FILE: an in-toto Statement v1 with a SLSA Verification Summary v1 predicate (subjects: the verified images; verdict PASSED or FAILED), written also when verification fails. Temporary name, then rename' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand import" -l receipt-key -d 'Sign the receipt with this key (as `airlock sign --key`): verify writes the Notary envelope to FILE.sig; import also pushes, for each image it admits, a signed receipt attached to it' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand import" -l receipt-cert -d 'The receipt key\'s certificate chain, PEM, leaf first (as `airlock sign --cert`)' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand import" -l receipt-envelope -d 'The receipt signature\'s envelope format' -r -f -a "jws\t'JWS JSON serialization (application/jose+json), notation\'s default'
cose\t'COSE_Sign1 (application/cose)'"
complete -c airlock -n "__fish_airlock_using_subcommand import" -l format -d 'Output format of the summary' -r -f -a "text\t'Human summary on stderr'
json\t'The JSON report on stdout'"
complete -c airlock -n "__fish_airlock_using_subcommand import" -l dry-run -d 'Print the plan; push nothing'
complete -c airlock -n "__fish_airlock_using_subcommand import" -l integrity-only -d 'Check integrity only (digests, sizes, descriptors, layout), without signatures'
complete -c airlock -n "__fish_airlock_using_subcommand import" -l trust-bundled -d 'Use the bundle\'s trust artifact without a pin: the report says `bundled-unpinned` and the summary warns that trust is then anchored in the bundle itself (whoever carried the bundle chose the policy and the roots)'
complete -c airlock -n "__fish_airlock_using_subcommand import" -s q -l quiet -d 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing'
complete -c airlock -n "__fish_airlock_using_subcommand import" -s v -l verbose -d 'More output on stderr: every image and check'
complete -c airlock -n "__fish_airlock_using_subcommand import" -l no-progress -d 'Never draw progress bars (they are drawn only when stderr is a terminal)'
complete -c airlock -n "__fish_airlock_using_subcommand import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c airlock -n "__fish_airlock_using_subcommand inspect" -l format -d 'Output format' -r -f -a "text\t'Human summary on stderr'
json\t'The JSON report on stdout'"
complete -c airlock -n "__fish_airlock_using_subcommand inspect" -s q -l quiet -d 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing'
complete -c airlock -n "__fish_airlock_using_subcommand inspect" -s v -l verbose -d 'More output on stderr: every image and check'
complete -c airlock -n "__fish_airlock_using_subcommand inspect" -l no-progress -d 'Never draw progress bars (they are drawn only when stderr is a terminal)'
complete -c airlock -n "__fish_airlock_using_subcommand inspect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c airlock -n "__fish_airlock_using_subcommand inventory" -s o -l output -d 'Write the inventory to FILE (a temporary name, then renamed). Without it, the inventory goes to stdout' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand inventory" -l registry -d 'The site\'s registry: HOST[:PORT][/PREFIX]; its repositories are walked (tags, manifests, indexes) and every blob they list is checked with HEAD' -r
complete -c airlock -n "__fish_airlock_using_subcommand inventory" -l repo -d 'A repository of --registry to walk (under its prefix); repeatable' -r
complete -c airlock -n "__fish_airlock_using_subcommand inventory" -l repos-from -d 'Walk the repositories a previous bundle\'s images were imported into (with --registry as import\'s --to and the same --map rewrites)' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand inventory" -l map -d 'Rewrite a repository prefix as import did: OLD=NEW; repeatable (with --repos-from)' -r
complete -c airlock -n "__fish_airlock_using_subcommand inventory" -l plain-http -d 'Speak plain HTTP (no TLS) to these hosts (HOST[:PORT]); repeatable. Loopback hosts (exactly 127.0.0.1, localhost, [::1]) are plain HTTP unless another host is named here' -r
complete -c airlock -n "__fish_airlock_using_subcommand inventory" -l ca-file -d 'Extra CA certificates (PEM) to trust for registry HTTPS' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand inventory" -l registry-config -d 'Docker config.json with registry credentials (default: $DOCKER_CONFIG/config.json, then ~/.docker/config.json; credsStore and credHelpers are honoured)' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand inventory" -l min-rate -d 'Slowest acceptable registry transfer, in bytes per second (K, M, G: powers of 1024): a blob of SIZE bytes must arrive within --network-timeout + SIZE / RATE, retries included. 0 turns this deadline off. Default 256K' -r
complete -c airlock -n "__fish_airlock_using_subcommand inventory" -l network-timeout -d 'Retry budget: the longest a registry request may go without progress, all retries included; a stalled registry fails after this long. Default 60' -r
complete -c airlock -n "__fish_airlock_using_subcommand inventory" -l at -d 'The time recorded as createdAt (RFC 3339). Default: now' -r
complete -c airlock -n "__fish_airlock_using_subcommand inventory" -l format -d 'Output format of the summary on stderr (the inventory itself is always JSON)' -r -f -a "text\t'Human summary on stderr'
json\t'The JSON report on stdout'"
complete -c airlock -n "__fish_airlock_using_subcommand inventory" -s q -l quiet -d 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing'
complete -c airlock -n "__fish_airlock_using_subcommand inventory" -s v -l verbose -d 'More output on stderr: every image and check'
complete -c airlock -n "__fish_airlock_using_subcommand inventory" -l no-progress -d 'Never draw progress bars (they are drawn only when stderr is a terminal)'
complete -c airlock -n "__fish_airlock_using_subcommand inventory" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c airlock -n "__fish_airlock_using_subcommand split" -l size -d 'The largest a part may be: a byte count with K, M, G, T (powers of 1024) or KB, MB, GB, TB (powers of 1000), or a medium: fat32 (4 GiB - 1), dvd (4.7 GB), dvd-dl (8.5 GB), bd25, bd50' -r
complete -c airlock -n "__fish_airlock_using_subcommand split" -l parts -d 'Write only these parts (1-based, comma separated), byte-identical to the first split with the same --size: a lost or damaged part re-issued from the copy kept on the connected side' -r
complete -c airlock -n "__fish_airlock_using_subcommand split" -s o -l output -d 'The folder to write into. Default: the bundle\'s folder' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand split" -l format -d 'Output format of the summary: text on stderr, or the manifest (JSON) on stdout' -r -f -a "text\t'Human summary on stderr'
json\t'The JSON report on stdout'"
complete -c airlock -n "__fish_airlock_using_subcommand split" -l force -d 'Replace an existing parts set of the same name'
complete -c airlock -n "__fish_airlock_using_subcommand split" -s q -l quiet -d 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing'
complete -c airlock -n "__fish_airlock_using_subcommand split" -s v -l verbose -d 'More output on stderr: every image and check'
complete -c airlock -n "__fish_airlock_using_subcommand split" -l no-progress -d 'Never draw progress bars (they are drawn only when stderr is a terminal)'
complete -c airlock -n "__fish_airlock_using_subcommand split" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c airlock -n "__fish_airlock_using_subcommand sign" -l key -d 'Private key of the signing certificate: unencrypted PKCS#8 PEM (BEGIN PRIVATE KEY), RSA 2048/3072/4096 or EC P-256/P-384/P-521' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand sign" -l cert -d 'Certificate chain, PEM: the signing certificate first, then any intermediates, then the self-signed root' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand sign" -l envelope -d 'Envelope format' -r -f -a "jws\t'JWS JSON serialization (application/jose+json), notation\'s default'
cose\t'COSE_Sign1 (application/cose)'"
complete -c airlock -n "__fish_airlock_using_subcommand sign" -l expiry -d 'Signature expiry, after the signing time: 30m, 12h, 7d, 3h20m (units d, h, m, s)' -r
complete -c airlock -n "__fish_airlock_using_subcommand sign" -l user-metadata -d 'User metadata signed into the payload (as notation sign -m); repeatable' -r
complete -c airlock -n "__fish_airlock_using_subcommand sign" -l signing-time -d 'Signing time (RFC 3339). Default: now' -r
complete -c airlock -n "__fish_airlock_using_subcommand sign" -s q -l quiet -d 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing'
complete -c airlock -n "__fish_airlock_using_subcommand sign" -s v -l verbose -d 'More output on stderr: every image and check'
complete -c airlock -n "__fish_airlock_using_subcommand sign" -l no-progress -d 'Never draw progress bars (they are drawn only when stderr is a terminal)'
complete -c airlock -n "__fish_airlock_using_subcommand sign" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c airlock -n "__fish_airlock_using_subcommand receipt; and not __fish_seen_subcommand_from verify help" -s q -l quiet -d 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing'
complete -c airlock -n "__fish_airlock_using_subcommand receipt; and not __fish_seen_subcommand_from verify help" -s v -l verbose -d 'More output on stderr: every image and check'
complete -c airlock -n "__fish_airlock_using_subcommand receipt; and not __fish_seen_subcommand_from verify help" -l no-progress -d 'Never draw progress bars (they are drawn only when stderr is a terminal)'
complete -c airlock -n "__fish_airlock_using_subcommand receipt; and not __fish_seen_subcommand_from verify help" -s h -l help -d 'Print help'
complete -c airlock -n "__fish_airlock_using_subcommand receipt; and not __fish_seen_subcommand_from verify help" -f -a "verify" -d 'Check a verification receipt offline: its signature against local trust material, its shape, and what it records'
complete -c airlock -n "__fish_airlock_using_subcommand receipt; and not __fish_seen_subcommand_from verify help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c airlock -n "__fish_airlock_using_subcommand receipt; and __fish_seen_subcommand_from verify" -l image -d 'Instead of FILE: check the receipts attached to this image in a registry (found as `oras discover` finds them: referrers of artifact type application/vnd.in-toto+json, each with its Notary signatures). Passes when one of them is authentic, names the image and records PASSED' -r
complete -c airlock -n "__fish_airlock_using_subcommand receipt; and __fish_seen_subcommand_from verify" -l plain-http -d 'Speak plain HTTP (no TLS) to these hosts (HOST[:PORT]); repeatable. Loopback hosts (exactly 127.0.0.1, localhost, [::1]) are plain HTTP unless another host is named here' -r
complete -c airlock -n "__fish_airlock_using_subcommand receipt; and __fish_seen_subcommand_from verify" -l ca-file -d 'Extra CA certificates (PEM) to trust for registry HTTPS' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand receipt; and __fish_seen_subcommand_from verify" -l registry-config -d 'Docker config.json with registry credentials (default: $DOCKER_CONFIG/config.json, then ~/.docker/config.json; credsStore and credHelpers are honoured)' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand receipt; and __fish_seen_subcommand_from verify" -l min-rate -d 'Slowest acceptable registry transfer, in bytes per second (K, M, G: powers of 1024): a blob of SIZE bytes must arrive within --network-timeout + SIZE / RATE, retries included. 0 turns this deadline off. Default 256K' -r
complete -c airlock -n "__fish_airlock_using_subcommand receipt; and __fish_seen_subcommand_from verify" -l network-timeout -d 'Retry budget: the longest a registry request may go without progress, all retries included; a stalled registry fails after this long. Default 60' -r
complete -c airlock -n "__fish_airlock_using_subcommand receipt; and __fish_seen_subcommand_from verify" -l signature -d 'The signature file (a JWS or COSE Notary envelope). Default: FILE.sig' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand receipt; and __fish_seen_subcommand_from verify" -l manifest -d 'The receipt manifest, when the receipt was pulled as OCI artifacts (what `import --receipt-key` pushes): the signature then signs this manifest, whose one layer must be FILE' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand receipt; and __fish_seen_subcommand_from verify" -l trust-policy -d 'Trust policy document (notation trustpolicy.json / trustpolicy.oci.json, version 1.0)' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand receipt; and __fish_seen_subcommand_from verify" -l trust-store -d 'Trust store: the folder holding x509/{ca,signingAuthority,tsa}/NAME/*.{crt,cer,pem}' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand receipt; and __fish_seen_subcommand_from verify" -l notation-config -d 'A notation configuration folder: trustpolicy.oci.json (or trustpolicy.json) and truststore/' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand receipt; and __fish_seen_subcommand_from verify" -l scope -d 'Registry scope the trust policy is matched under' -r
complete -c airlock -n "__fish_airlock_using_subcommand receipt; and __fish_seen_subcommand_from verify" -l at -d 'Verification time (RFC 3339). Default: now' -r
complete -c airlock -n "__fish_airlock_using_subcommand receipt; and __fish_seen_subcommand_from verify" -l crl -d 'A CRL (PEM or DER) to check certificates against; repeatable. Nothing is fetched' -r -F
complete -c airlock -n "__fish_airlock_using_subcommand receipt; and __fish_seen_subcommand_from verify" -l subject -d 'Also require the statement to name this image digest among its subjects' -r
complete -c airlock -n "__fish_airlock_using_subcommand receipt; and __fish_seen_subcommand_from verify" -l bundle-digest -d 'Also require the statement to be the receipt of this bundle: its `bundle sha256:...` (the `index.json` digest every command prints) or, for a tarball, the file\'s digest' -r
complete -c airlock -n "__fish_airlock_using_subcommand receipt; and __fish_seen_subcommand_from verify" -l require-level -d 'Also require the statement to claim this verified level; repeatable. For a gate that admits only images whose signatures were verified: `--require-level AIRLOCK_INTEGRITY_VERIFIED --require-level AIRLOCK_NOTARY_SIGNATURES_VERIFIED`' -r
complete -c airlock -n "__fish_airlock_using_subcommand receipt; and __fish_seen_subcommand_from verify" -l format -d 'Output format: a human summary on stderr, or the JSON result on stdout' -r -f -a "text\t'Human summary on stderr'
json\t'The JSON report on stdout'"
complete -c airlock -n "__fish_airlock_using_subcommand receipt; and __fish_seen_subcommand_from verify" -s q -l quiet -d 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing'
complete -c airlock -n "__fish_airlock_using_subcommand receipt; and __fish_seen_subcommand_from verify" -s v -l verbose -d 'More output on stderr: every image and check'
complete -c airlock -n "__fish_airlock_using_subcommand receipt; and __fish_seen_subcommand_from verify" -l no-progress -d 'Never draw progress bars (they are drawn only when stderr is a terminal)'
complete -c airlock -n "__fish_airlock_using_subcommand receipt; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c airlock -n "__fish_airlock_using_subcommand receipt; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Check a verification receipt offline: its signature against local trust material, its shape, and what it records'
complete -c airlock -n "__fish_airlock_using_subcommand receipt; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c airlock -n "__fish_airlock_using_subcommand fixture" -l platforms -d 'Platforms of the image index (os/arch), comma separated' -r
complete -c airlock -n "__fish_airlock_using_subcommand fixture" -l layers -d 'Layers per platform' -r
complete -c airlock -n "__fish_airlock_using_subcommand fixture" -l layer-size -d 'Bytes per layer' -r
complete -c airlock -n "__fish_airlock_using_subcommand fixture" -l seed -d 'Seed of the layer content' -r
complete -c airlock -n "__fish_airlock_using_subcommand fixture" -l reference -d 'Image reference recorded in index.json' -r
complete -c airlock -n "__fish_airlock_using_subcommand fixture" -l no-referrer -d 'Leave out the SBOM-like referrer'
complete -c airlock -n "__fish_airlock_using_subcommand fixture" -s q -l quiet -d 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing'
complete -c airlock -n "__fish_airlock_using_subcommand fixture" -s v -l verbose -d 'More output on stderr: every image and check'
complete -c airlock -n "__fish_airlock_using_subcommand fixture" -l no-progress -d 'Never draw progress bars (they are drawn only when stderr is a terminal)'
complete -c airlock -n "__fish_airlock_using_subcommand fixture" -s h -l help -d 'Print help'
complete -c airlock -n "__fish_airlock_using_subcommand pack" -s q -l quiet -d 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing'
complete -c airlock -n "__fish_airlock_using_subcommand pack" -s v -l verbose -d 'More output on stderr: every image and check'
complete -c airlock -n "__fish_airlock_using_subcommand pack" -l no-progress -d 'Never draw progress bars (they are drawn only when stderr is a terminal)'
complete -c airlock -n "__fish_airlock_using_subcommand pack" -s h -l help -d 'Print help'
complete -c airlock -n "__fish_airlock_using_subcommand completions" -s q -l quiet -d 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing'
complete -c airlock -n "__fish_airlock_using_subcommand completions" -s v -l verbose -d 'More output on stderr: every image and check'
complete -c airlock -n "__fish_airlock_using_subcommand completions" -l no-progress -d 'Never draw progress bars (they are drawn only when stderr is a terminal)'
complete -c airlock -n "__fish_airlock_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c airlock -n "__fish_airlock_using_subcommand help; and not __fish_seen_subcommand_from verify export import inspect inventory split sign receipt fixture pack completions help" -f -a "verify" -d 'Verify a bundle from local files only'
complete -c airlock -n "__fish_airlock_using_subcommand help; and not __fish_seen_subcommand_from verify export import inspect inventory split sign receipt fixture pack completions help" -f -a "export" -d 'Write images, their signatures and the trust material into one bundle'
complete -c airlock -n "__fish_airlock_using_subcommand help; and not __fish_seen_subcommand_from verify export import inspect inventory split sign receipt fixture pack completions help" -f -a "import" -d 'Verify a bundle, then push it into a registry with its signatures'
complete -c airlock -n "__fish_airlock_using_subcommand help; and not __fish_seen_subcommand_from verify export import inspect inventory split sign receipt fixture pack completions help" -f -a "inspect" -d 'List the images, platforms, referrers and blobs of a bundle'
complete -c airlock -n "__fish_airlock_using_subcommand help; and not __fish_seen_subcommand_from verify export import inspect inventory split sign receipt fixture pack completions help" -f -a "inventory" -d 'Write what the site already holds (from its registry, or from bundles on disk), for `export --since`'
complete -c airlock -n "__fish_airlock_using_subcommand help; and not __fish_seen_subcommand_from verify export import inspect inventory split sign receipt fixture pack completions help" -f -a "split" -d 'Cut a tarball bundle into parts that fit the media, with a parts manifest'
complete -c airlock -n "__fish_airlock_using_subcommand help; and not __fish_seen_subcommand_from verify export import inspect inventory split sign receipt fixture pack completions help" -f -a "sign" -d 'Sign an image of an OCI image layout directory, as `notation sign --oci-layout` does'
complete -c airlock -n "__fish_airlock_using_subcommand help; and not __fish_seen_subcommand_from verify export import inspect inventory split sign receipt fixture pack completions help" -f -a "receipt" -d 'Check a verification receipt offline (`airlock receipt verify FILE`)'
complete -c airlock -n "__fish_airlock_using_subcommand help; and not __fish_seen_subcommand_from verify export import inspect inventory split sign receipt fixture pack completions help" -f -a "fixture" -d 'Write a deterministic sample bundle (for the README, tests and benchmarks)'
complete -c airlock -n "__fish_airlock_using_subcommand help; and not __fish_seen_subcommand_from verify export import inspect inventory split sign receipt fixture pack completions help" -f -a "pack" -d 'Pack a layout directory into a deterministic .tar, .tar.gz or .tar.zst'
complete -c airlock -n "__fish_airlock_using_subcommand help; and not __fish_seen_subcommand_from verify export import inspect inventory split sign receipt fixture pack completions help" -f -a "completions" -d 'Print a shell completion script (bash, zsh, fish, powershell) on stdout'
complete -c airlock -n "__fish_airlock_using_subcommand help; and not __fish_seen_subcommand_from verify export import inspect inventory split sign receipt fixture pack completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c airlock -n "__fish_airlock_using_subcommand help; and __fish_seen_subcommand_from receipt" -f -a "verify" -d 'Check a verification receipt offline: its signature against local trust material, its shape, and what it records'
