{#- Every version of the source's rows ever staged, normalised once (as_of-free part; macros/staging_versions.sql) -#}
{{ versions_model(source('social', 'beneficiary'), stg_social__beneficiary_version('versions_source'), 'social', 'beneficiary') }}  -- noqa: PRS
