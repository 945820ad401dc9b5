
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'airlock' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'airlock'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'airlock' {
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: every image and check')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: every image and check')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars (they are drawn only when stderr is a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Verify a bundle from local files only')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write images, their signatures and the trust material into one bundle')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Verify a bundle, then push it into a registry with its signatures')
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'List the images, platforms, referrers and blobs of a bundle')
            [CompletionResult]::new('inventory', 'inventory', [CompletionResultType]::ParameterValue, 'Write what the site already holds (from its registry, or from bundles on disk), for `export --since`')
            [CompletionResult]::new('split', 'split', [CompletionResultType]::ParameterValue, 'Cut a tarball bundle into parts that fit the media, with a parts manifest')
            [CompletionResult]::new('sign', 'sign', [CompletionResultType]::ParameterValue, 'Sign an image of an OCI image layout directory, as `notation sign --oci-layout` does')
            [CompletionResult]::new('receipt', 'receipt', [CompletionResultType]::ParameterValue, 'Check a verification receipt offline (`airlock receipt verify FILE`)')
            [CompletionResult]::new('fixture', 'fixture', [CompletionResultType]::ParameterValue, 'Write a deterministic sample bundle (for the README, tests and benchmarks)')
            [CompletionResult]::new('pack', 'pack', [CompletionResultType]::ParameterValue, 'Pack a layout directory into a deterministic .tar, .tar.gz or .tar.zst')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script (bash, zsh, fish, powershell) on stdout')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'airlock;verify' {
            [CompletionResult]::new('--pin', '--pin', [CompletionResultType]::ParameterName, 'Use the trust artifact the bundle carries, but only the one whose manifest digest is this value: the `--pin sha256:...` that `airlock export` printed, carried out of band. The digest authenticates the artifact''s trust policy, certificates, TSA roots, CRLs and export record; the record then decides which images pass under which names. Repeatable (any one may match). A root certificate''s fingerprint is not a pin: put the root in a local trust store')
            [CompletionResult]::new('--trust-policy', '--trust-policy', [CompletionResultType]::ParameterName, 'Trust policy document (notation trustpolicy.json / trustpolicy.oci.json, version 1.0)')
            [CompletionResult]::new('--trust-store', '--trust-store', [CompletionResultType]::ParameterName, 'Trust store: the folder holding x509/{ca,signingAuthority,tsa}/NAME/*.{crt,cer,pem}')
            [CompletionResult]::new('--notation-config', '--notation-config', [CompletionResultType]::ParameterName, 'A notation configuration folder: trustpolicy.oci.json (or trustpolicy.json) and truststore/')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Registry scope (REGISTRY/REPO) matched against the policy''s registryScopes, for every image. Default: each image''s recorded source repository')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'Verification time (RFC 3339). Default: now')
            [CompletionResult]::new('--crl', '--crl', [CompletionResultType]::ParameterName, 'A CRL (PEM or DER) to check certificates against; repeatable. Nothing is fetched')
            [CompletionResult]::new('--user-metadata', '--user-metadata', [CompletionResultType]::ParameterName, 'User metadata the signed payload must carry (as notation verify -m); repeatable')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: a human summary on stderr, or the JSON report on stdout')
            [CompletionResult]::new('--report', '--report', [CompletionResultType]::ParameterName, 'Also write the JSON report to FILE (written to a temporary name, then renamed)')
            [CompletionResult]::new('--manifest', '--manifest', [CompletionResultType]::ParameterName, 'The parts manifest, when it is not beside the part (--parts-only)')
            [CompletionResult]::new('--base', '--base', [CompletionResultType]::ParameterName, 'Bundles or layouts holding blobs a differential bundle left out (`export --since`): each is re-hashed, and a blob the bundle lacks is taken from it when its content matches its digest, so that the verdict covers every blob; repeatable')
            [CompletionResult]::new('--receipt', '--receipt', [CompletionResultType]::ParameterName, 'Write a verification receipt to FILE: an in-toto Statement v1 with a SLSA Verification Summary v1 predicate (subjects: the verified images; verdict PASSED or FAILED), written also when verification fails. Temporary name, then rename')
            [CompletionResult]::new('--receipt-key', '--receipt-key', [CompletionResultType]::ParameterName, 'Sign the receipt with this key (as `airlock sign --key`): verify writes the Notary envelope to FILE.sig; import also pushes, for each image it admits, a signed receipt attached to it')
            [CompletionResult]::new('--receipt-cert', '--receipt-cert', [CompletionResultType]::ParameterName, 'The receipt key''s certificate chain, PEM, leaf first (as `airlock sign --cert`)')
            [CompletionResult]::new('--receipt-envelope', '--receipt-envelope', [CompletionResultType]::ParameterName, 'The receipt signature''s envelope format')
            [CompletionResult]::new('--integrity-only', '--integrity-only', [CompletionResultType]::ParameterName, 'Check integrity only (digests, sizes, descriptors, layout), without signatures')
            [CompletionResult]::new('--trust-bundled', '--trust-bundled', [CompletionResultType]::ParameterName, 'Use the bundle''s trust artifact without a pin: the report says `bundled-unpinned` and the summary warns that trust is then anchored in the bundle itself (whoever carried the bundle chose the policy and the roots)')
            [CompletionResult]::new('--parts-only', '--parts-only', [CompletionResultType]::ParameterName, 'Check only the parts of a split bundle, as they arrive: BUNDLE is the parts manifest (NAME.parts.json), the folder holding the parts, or one part file NAME.NNN (only that part is checked). Each present part''s size and sha256 is compared with the manifest and each missing one named; exit 0 only when every part checked is present and good. No trust anchor is needed: this is not the verification of the bundle')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: every image and check')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: every image and check')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars (they are drawn only when stderr is a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'airlock;export' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Read more sources from FILE, one per line (`#` starts a comment)')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Read more sources from FILE, one per line (`#` starts a comment)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output: DIR (a layout directory), FILE.tar, FILE.tar.zst, FILE.tar.gz, or - (a tar on stdout). Required unless the bundle file (--config) names one; given here, it wins')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output: DIR (a layout directory), FILE.tar, FILE.tar.zst, FILE.tar.gz, or - (a tar on stdout). Required unless the bundle file (--config) names one; given here, it wins')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'A bundle file (TOML): images with their platforms, referrer selection, required signature and trusted identity; trust material; registry and output settings. Relative paths in it are relative to its folder. Sources named here or with -f are added after its images; other options combine with it as README.md, "Bundle file and lockfile", says')
            [CompletionResult]::new('--lock', '--lock', [CompletionResultType]::ParameterName, 'Write the lockfile: the digest every image resolved to and every referrer carried, by subject (JSON, written to a temporary name and renamed). With --locked, the lock to check')
            [CompletionResult]::new('--platform', '--platform', [CompletionResultType]::ParameterName, 'Keep only this platform (os/arch[/variant]) of multi-platform images; repeatable. The index stays byte-identical; the children left out are recorded')
            [CompletionResult]::new('--referrers', '--referrers', [CompletionResultType]::ParameterName, 'Which referrers travel: all (signatures, SBOMs, attestations, and their own referrers, recursively; cosign''s sha256-<hex>.sig/.att/.sbom tags), none, or only those of these artifact types (comma-separated, e.g. application/vnd.cncf.notary.signature)')
            [CompletionResult]::new('--trust-policy', '--trust-policy', [CompletionResultType]::ParameterName, 'Trust policy document (notation trustpolicy.json / trustpolicy.oci.json, version 1.0)')
            [CompletionResult]::new('--trust-store', '--trust-store', [CompletionResultType]::ParameterName, 'Trust store: the folder holding x509/{ca,signingAuthority,tsa}/NAME/*.{crt,cer,pem}')
            [CompletionResult]::new('--notation-config', '--notation-config', [CompletionResultType]::ParameterName, 'A notation configuration folder: trustpolicy.oci.json (or trustpolicy.json) and truststore/')
            [CompletionResult]::new('--crl', '--crl', [CompletionResultType]::ParameterName, 'A CRL (PEM or DER) to carry; repeatable')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Registry scope (REGISTRY/REPO) to verify the captured signatures against, for images whose recorded name has no repository (local layouts tagged `v1`, say)')
            [CompletionResult]::new('--plain-http', '--plain-http', [CompletionResultType]::ParameterName, 'Speak plain HTTP (no TLS) to these hosts (HOST[:PORT]); repeatable. Loopback hosts (exactly 127.0.0.1, localhost, [::1]) are plain HTTP unless another host is named here')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'Extra CA certificates (PEM) to trust for registry HTTPS')
            [CompletionResult]::new('--registry-config', '--registry-config', [CompletionResultType]::ParameterName, 'Docker config.json with registry credentials (default: $DOCKER_CONFIG/config.json, then ~/.docker/config.json; credsStore and credHelpers are honoured)')
            [CompletionResult]::new('--min-rate', '--min-rate', [CompletionResultType]::ParameterName, 'Slowest acceptable registry transfer, in bytes per second (K, M, G: powers of 1024): a blob of SIZE bytes must arrive within --network-timeout + SIZE / RATE, retries included. 0 turns this deadline off. Default 256K')
            [CompletionResult]::new('--network-timeout', '--network-timeout', [CompletionResultType]::ParameterName, 'Retry budget: the longest a registry request may go without progress, all retries included; a stalled registry fails after this long. Default 60')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Blobs fetched at once. Into a directory they land in parallel; into a tarball the blob whose turn it is streams straight in, and those fetched ahead of their turn wait in a spool beside the output (at most N blobs), so the archive is byte-identical whatever N is. At most 32 (each job buffers 1 MiB). Default 4')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Blobs fetched at once. Into a directory they land in parallel; into a tarball the blob whose turn it is streams straight in, and those fetched ahead of their turn wait in a spool beside the output (at most N blobs), so the archive is byte-identical whatever N is. At most 32 (each job buffers 1 MiB). Default 4')
            [CompletionResult]::new('--zstd-level', '--zstd-level', [CompletionResultType]::ParameterName, 'zstd compression level for .tar.zst output, 1 to 22. Default 3. Levels above 19 need hundreds of MiB for zstd''s own tables (per worker); their window is capped at 32 MiB')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Differential export: leave out every layer these inventories (written by `airlock inventory` on the far side) list with the same digest and size; repeatable. Manifests, indexes, configs, signatures and the trust artifact are always carried; the export record lists each blob left out, which the far side''s import requires its registry to hold')
            [CompletionResult]::new('--split', '--split', [CompletionResultType]::ParameterName, 'Write the tarball as parts of at most SIZE bytes each, OUT.001, OUT.002, ... and the parts manifest OUT.parts.json (what `airlock split` writes from the single file, byte for byte), for media with a per-file limit. SIZE: a byte count with K, M, G, T (powers of 1024) or KB, MB, GB, TB (powers of 1000), or fat32, dvd, dvd-dl, bd25, bd50. Only for a tarball file')
            [CompletionResult]::new('--sign-key', '--sign-key', [CompletionResultType]::ParameterName, 'Sign the trust artifact with this key (as `airlock sign --key`): the export signature, carried in the bundle and reported by verify as exportedBy (matched under the trust-policy scope airlock/export)')
            [CompletionResult]::new('--sign-cert', '--sign-cert', [CompletionResultType]::ParameterName, 'The export signing key''s certificate chain, PEM, leaf first (as `airlock sign --cert`)')
            [CompletionResult]::new('--sign-envelope', '--sign-envelope', [CompletionResultType]::ParameterName, 'The export signature''s envelope format')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format of the summary: text on stderr, or JSON on stdout')
            [CompletionResult]::new('--locked', '--locked', [CompletionResultType]::ParameterName, 'Refuse the export (exit 1, before anything is written) when an image now resolves to another digest than the lock''s, or its platform manifests or referrers changed; each difference is named. The lock is not rewritten')
            [CompletionResult]::new('--no-referrers', '--no-referrers', [CompletionResultType]::ParameterName, 'Leave every referrer out: the same as --referrers none')
            [CompletionResult]::new('--require-signature', '--require-signature', [CompletionResultType]::ParameterName, 'Fail when an image has no notation signature')
            [CompletionResult]::new('--no-fetch-crls', '--no-fetch-crls', [CompletionResultType]::ParameterName, 'Do not fetch the CRLs the captured certificate chains name (by default they are fetched over HTTP now, checked against their issuer, and carried, so strict revocation checks pass offline)')
            [CompletionResult]::new('--allow-failed-signatures', '--allow-failed-signatures', [CompletionResultType]::ParameterName, 'Export even when a captured signature fails verification (recorded in the bundle)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace an existing output that airlock did not write (a directory that is not an airlock bundle, a regular file where a directory goes, a symbolic link): whole, and only once the new bundle is complete. Without it such an output is refused (exit 2)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: every image and check')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: every image and check')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars (they are drawn only when stderr is a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'airlock;import' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'The target: HOST[:PORT][/PREFIX]. SOURCE_REGISTRY/REPO:TAG becomes HOST:PORT/PREFIX/REPO:TAG')
            [CompletionResult]::new('--map', '--map', [CompletionResultType]::ParameterName, 'Rewrite a repository prefix: OLD=NEW; repeatable')
            [CompletionResult]::new('--referrers', '--referrers', [CompletionResultType]::ParameterName, 'How signatures are made discoverable: the Referrers API, the sha256-<hex> tag schema, or auto')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Blobs uploaded at the same time, each over its own connection (1 to 64)')
            [CompletionResult]::new('--spool-limit', '--spool-limit', [CompletionResultType]::ParameterName, 'Most bytes of a tarball''s blobs kept in $TMPDIR at once so that uploads run side by side (K, M, G: powers of 1024); past it, blobs are uploaded in stream order without spooling. 0 spools nothing')
            [CompletionResult]::new('--pin', '--pin', [CompletionResultType]::ParameterName, 'Use the trust artifact the bundle carries, but only the one whose manifest digest is this value: the `--pin sha256:...` that `airlock export` printed, carried out of band. The digest authenticates the artifact''s trust policy, certificates, TSA roots, CRLs and export record; the record then decides which images pass under which names. Repeatable (any one may match). A root certificate''s fingerprint is not a pin: put the root in a local trust store')
            [CompletionResult]::new('--trust-policy', '--trust-policy', [CompletionResultType]::ParameterName, 'Trust policy document (notation trustpolicy.json / trustpolicy.oci.json, version 1.0)')
            [CompletionResult]::new('--trust-store', '--trust-store', [CompletionResultType]::ParameterName, 'Trust store: the folder holding x509/{ca,signingAuthority,tsa}/NAME/*.{crt,cer,pem}')
            [CompletionResult]::new('--notation-config', '--notation-config', [CompletionResultType]::ParameterName, 'A notation configuration folder: trustpolicy.oci.json (or trustpolicy.json) and truststore/')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Registry scope (REGISTRY/REPO) matched against the policy''s registryScopes, for every image. Default: each image''s recorded source repository')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'Verification time (RFC 3339). Default: now')
            [CompletionResult]::new('--crl', '--crl', [CompletionResultType]::ParameterName, 'A CRL (PEM or DER) to check certificates against; repeatable. Nothing is fetched')
            [CompletionResult]::new('--user-metadata', '--user-metadata', [CompletionResultType]::ParameterName, 'User metadata the signed payload must carry (as notation verify -m); repeatable')
            [CompletionResult]::new('--plain-http', '--plain-http', [CompletionResultType]::ParameterName, 'Speak plain HTTP (no TLS) to these hosts (HOST[:PORT]); repeatable. Loopback hosts (exactly 127.0.0.1, localhost, [::1]) are plain HTTP unless another host is named here')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'Extra CA certificates (PEM) to trust for registry HTTPS')
            [CompletionResult]::new('--registry-config', '--registry-config', [CompletionResultType]::ParameterName, 'Docker config.json with registry credentials (default: $DOCKER_CONFIG/config.json, then ~/.docker/config.json; credsStore and credHelpers are honoured)')
            [CompletionResult]::new('--min-rate', '--min-rate', [CompletionResultType]::ParameterName, 'Slowest acceptable registry transfer, in bytes per second (K, M, G: powers of 1024): a blob of SIZE bytes must arrive within --network-timeout + SIZE / RATE, retries included. 0 turns this deadline off. Default 256K')
            [CompletionResult]::new('--network-timeout', '--network-timeout', [CompletionResultType]::ParameterName, 'Retry budget: the longest a registry request may go without progress, all retries included; a stalled registry fails after this long. Default 60')
            [CompletionResult]::new('--receipt', '--receipt', [CompletionResultType]::ParameterName, 'Write a verification receipt to FILE: an in-toto Statement v1 with a SLSA Verification Summary v1 predicate (subjects: the verified images; verdict PASSED or FAILED), written also when verification fails. Temporary name, then rename')
            [CompletionResult]::new('--receipt-key', '--receipt-key', [CompletionResultType]::ParameterName, 'Sign the receipt with this key (as `airlock sign --key`): verify writes the Notary envelope to FILE.sig; import also pushes, for each image it admits, a signed receipt attached to it')
            [CompletionResult]::new('--receipt-cert', '--receipt-cert', [CompletionResultType]::ParameterName, 'The receipt key''s certificate chain, PEM, leaf first (as `airlock sign --cert`)')
            [CompletionResult]::new('--receipt-envelope', '--receipt-envelope', [CompletionResultType]::ParameterName, 'The receipt signature''s envelope format')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format of the summary')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan; push nothing')
            [CompletionResult]::new('--integrity-only', '--integrity-only', [CompletionResultType]::ParameterName, 'Check integrity only (digests, sizes, descriptors, layout), without signatures')
            [CompletionResult]::new('--trust-bundled', '--trust-bundled', [CompletionResultType]::ParameterName, 'Use the bundle''s trust artifact without a pin: the report says `bundled-unpinned` and the summary warns that trust is then anchored in the bundle itself (whoever carried the bundle chose the policy and the roots)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: every image and check')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: every image and check')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars (they are drawn only when stderr is a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'airlock;inspect' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: every image and check')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: every image and check')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars (they are drawn only when stderr is a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'airlock;inventory' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the inventory to FILE (a temporary name, then renamed). Without it, the inventory goes to stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the inventory to FILE (a temporary name, then renamed). Without it, the inventory goes to stdout')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'The site''s registry: HOST[:PORT][/PREFIX]; its repositories are walked (tags, manifests, indexes) and every blob they list is checked with HEAD')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'A repository of --registry to walk (under its prefix); repeatable')
            [CompletionResult]::new('--repos-from', '--repos-from', [CompletionResultType]::ParameterName, 'Walk the repositories a previous bundle''s images were imported into (with --registry as import''s --to and the same --map rewrites)')
            [CompletionResult]::new('--map', '--map', [CompletionResultType]::ParameterName, 'Rewrite a repository prefix as import did: OLD=NEW; repeatable (with --repos-from)')
            [CompletionResult]::new('--plain-http', '--plain-http', [CompletionResultType]::ParameterName, 'Speak plain HTTP (no TLS) to these hosts (HOST[:PORT]); repeatable. Loopback hosts (exactly 127.0.0.1, localhost, [::1]) are plain HTTP unless another host is named here')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'Extra CA certificates (PEM) to trust for registry HTTPS')
            [CompletionResult]::new('--registry-config', '--registry-config', [CompletionResultType]::ParameterName, 'Docker config.json with registry credentials (default: $DOCKER_CONFIG/config.json, then ~/.docker/config.json; credsStore and credHelpers are honoured)')
            [CompletionResult]::new('--min-rate', '--min-rate', [CompletionResultType]::ParameterName, 'Slowest acceptable registry transfer, in bytes per second (K, M, G: powers of 1024): a blob of SIZE bytes must arrive within --network-timeout + SIZE / RATE, retries included. 0 turns this deadline off. Default 256K')
            [CompletionResult]::new('--network-timeout', '--network-timeout', [CompletionResultType]::ParameterName, 'Retry budget: the longest a registry request may go without progress, all retries included; a stalled registry fails after this long. Default 60')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'The time recorded as createdAt (RFC 3339). Default: now')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format of the summary on stderr (the inventory itself is always JSON)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: every image and check')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: every image and check')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars (they are drawn only when stderr is a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'airlock;split' {
            [CompletionResult]::new('--size', '--size', [CompletionResultType]::ParameterName, 'The largest a part may be: a byte count with K, M, G, T (powers of 1024) or KB, MB, GB, TB (powers of 1000), or a medium: fat32 (4 GiB - 1), dvd (4.7 GB), dvd-dl (8.5 GB), bd25, bd50')
            [CompletionResult]::new('--parts', '--parts', [CompletionResultType]::ParameterName, 'Write only these parts (1-based, comma separated), byte-identical to the first split with the same --size: a lost or damaged part re-issued from the copy kept on the connected side')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'The folder to write into. Default: the bundle''s folder')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'The folder to write into. Default: the bundle''s folder')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format of the summary: text on stderr, or the manifest (JSON) on stdout')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace an existing parts set of the same name')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: every image and check')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: every image and check')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars (they are drawn only when stderr is a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'airlock;sign' {
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Private key of the signing certificate: unencrypted PKCS#8 PEM (BEGIN PRIVATE KEY), RSA 2048/3072/4096 or EC P-256/P-384/P-521')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Certificate chain, PEM: the signing certificate first, then any intermediates, then the self-signed root')
            [CompletionResult]::new('--envelope', '--envelope', [CompletionResultType]::ParameterName, 'Envelope format')
            [CompletionResult]::new('--expiry', '--expiry', [CompletionResultType]::ParameterName, 'Signature expiry, after the signing time: 30m, 12h, 7d, 3h20m (units d, h, m, s)')
            [CompletionResult]::new('--user-metadata', '--user-metadata', [CompletionResultType]::ParameterName, 'User metadata signed into the payload (as notation sign -m); repeatable')
            [CompletionResult]::new('--signing-time', '--signing-time', [CompletionResultType]::ParameterName, 'Signing time (RFC 3339). Default: now')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: every image and check')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: every image and check')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars (they are drawn only when stderr is a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'airlock;receipt' {
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: every image and check')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: every image and check')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars (they are drawn only when stderr is a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check a verification receipt offline: its signature against local trust material, its shape, and what it records')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'airlock;receipt;verify' {
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'Instead of FILE: check the receipts attached to this image in a registry (found as `oras discover` finds them: referrers of artifact type application/vnd.in-toto+json, each with its Notary signatures). Passes when one of them is authentic, names the image and records PASSED')
            [CompletionResult]::new('--plain-http', '--plain-http', [CompletionResultType]::ParameterName, 'Speak plain HTTP (no TLS) to these hosts (HOST[:PORT]); repeatable. Loopback hosts (exactly 127.0.0.1, localhost, [::1]) are plain HTTP unless another host is named here')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'Extra CA certificates (PEM) to trust for registry HTTPS')
            [CompletionResult]::new('--registry-config', '--registry-config', [CompletionResultType]::ParameterName, 'Docker config.json with registry credentials (default: $DOCKER_CONFIG/config.json, then ~/.docker/config.json; credsStore and credHelpers are honoured)')
            [CompletionResult]::new('--min-rate', '--min-rate', [CompletionResultType]::ParameterName, 'Slowest acceptable registry transfer, in bytes per second (K, M, G: powers of 1024): a blob of SIZE bytes must arrive within --network-timeout + SIZE / RATE, retries included. 0 turns this deadline off. Default 256K')
            [CompletionResult]::new('--network-timeout', '--network-timeout', [CompletionResultType]::ParameterName, 'Retry budget: the longest a registry request may go without progress, all retries included; a stalled registry fails after this long. Default 60')
            [CompletionResult]::new('--signature', '--signature', [CompletionResultType]::ParameterName, 'The signature file (a JWS or COSE Notary envelope). Default: FILE.sig')
            [CompletionResult]::new('--manifest', '--manifest', [CompletionResultType]::ParameterName, 'The receipt manifest, when the receipt was pulled as OCI artifacts (what `import --receipt-key` pushes): the signature then signs this manifest, whose one layer must be FILE')
            [CompletionResult]::new('--trust-policy', '--trust-policy', [CompletionResultType]::ParameterName, 'Trust policy document (notation trustpolicy.json / trustpolicy.oci.json, version 1.0)')
            [CompletionResult]::new('--trust-store', '--trust-store', [CompletionResultType]::ParameterName, 'Trust store: the folder holding x509/{ca,signingAuthority,tsa}/NAME/*.{crt,cer,pem}')
            [CompletionResult]::new('--notation-config', '--notation-config', [CompletionResultType]::ParameterName, 'A notation configuration folder: trustpolicy.oci.json (or trustpolicy.json) and truststore/')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Registry scope the trust policy is matched under')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'Verification time (RFC 3339). Default: now')
            [CompletionResult]::new('--crl', '--crl', [CompletionResultType]::ParameterName, 'A CRL (PEM or DER) to check certificates against; repeatable. Nothing is fetched')
            [CompletionResult]::new('--subject', '--subject', [CompletionResultType]::ParameterName, 'Also require the statement to name this image digest among its subjects')
            [CompletionResult]::new('--bundle-digest', '--bundle-digest', [CompletionResultType]::ParameterName, 'Also require the statement to be the receipt of this bundle: its `bundle sha256:...` (the `index.json` digest every command prints) or, for a tarball, the file''s digest')
            [CompletionResult]::new('--require-level', '--require-level', [CompletionResultType]::ParameterName, 'Also require the statement to claim this verified level; repeatable. For a gate that admits only images whose signatures were verified: `--require-level AIRLOCK_INTEGRITY_VERIFIED --require-level AIRLOCK_NOTARY_SIGNATURES_VERIFIED`')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: a human summary on stderr, or the JSON result on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: every image and check')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: every image and check')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars (they are drawn only when stderr is a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'airlock;receipt;help' {
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check a verification receipt offline: its signature against local trust material, its shape, and what it records')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'airlock;receipt;help;verify' {
            break
        }
        'airlock;receipt;help;help' {
            break
        }
        'airlock;fixture' {
            [CompletionResult]::new('--platforms', '--platforms', [CompletionResultType]::ParameterName, 'Platforms of the image index (os/arch), comma separated')
            [CompletionResult]::new('--layers', '--layers', [CompletionResultType]::ParameterName, 'Layers per platform')
            [CompletionResult]::new('--layer-size', '--layer-size', [CompletionResultType]::ParameterName, 'Bytes per layer')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'Seed of the layer content')
            [CompletionResult]::new('--reference', '--reference', [CompletionResultType]::ParameterName, 'Image reference recorded in index.json')
            [CompletionResult]::new('--no-referrer', '--no-referrer', [CompletionResultType]::ParameterName, 'Leave out the SBOM-like referrer')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: every image and check')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: every image and check')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars (they are drawn only when stderr is a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'airlock;pack' {
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: every image and check')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: every image and check')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars (they are drawn only when stderr is a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'airlock;completions' {
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Less output on stderr: -q hides progress and per-item lines, -qq prints nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: every image and check')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: every image and check')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw progress bars (they are drawn only when stderr is a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'airlock;help' {
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Verify a bundle from local files only')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write images, their signatures and the trust material into one bundle')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Verify a bundle, then push it into a registry with its signatures')
            [CompletionResult]::new('inspect', 'inspect', [CompletionResultType]::ParameterValue, 'List the images, platforms, referrers and blobs of a bundle')
            [CompletionResult]::new('inventory', 'inventory', [CompletionResultType]::ParameterValue, 'Write what the site already holds (from its registry, or from bundles on disk), for `export --since`')
            [CompletionResult]::new('split', 'split', [CompletionResultType]::ParameterValue, 'Cut a tarball bundle into parts that fit the media, with a parts manifest')
            [CompletionResult]::new('sign', 'sign', [CompletionResultType]::ParameterValue, 'Sign an image of an OCI image layout directory, as `notation sign --oci-layout` does')
            [CompletionResult]::new('receipt', 'receipt', [CompletionResultType]::ParameterValue, 'Check a verification receipt offline (`airlock receipt verify FILE`)')
            [CompletionResult]::new('fixture', 'fixture', [CompletionResultType]::ParameterValue, 'Write a deterministic sample bundle (for the README, tests and benchmarks)')
            [CompletionResult]::new('pack', 'pack', [CompletionResultType]::ParameterValue, 'Pack a layout directory into a deterministic .tar, .tar.gz or .tar.zst')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script (bash, zsh, fish, powershell) on stdout')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'airlock;help;verify' {
            break
        }
        'airlock;help;export' {
            break
        }
        'airlock;help;import' {
            break
        }
        'airlock;help;inspect' {
            break
        }
        'airlock;help;inventory' {
            break
        }
        'airlock;help;split' {
            break
        }
        'airlock;help;sign' {
            break
        }
        'airlock;help;receipt' {
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check a verification receipt offline: its signature against local trust material, its shape, and what it records')
            break
        }
        'airlock;help;receipt;verify' {
            break
        }
        'airlock;help;fixture' {
            break
        }
        'airlock;help;pack' {
            break
        }
        'airlock;help;completions' {
            break
        }
        'airlock;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
