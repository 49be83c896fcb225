{#- Every version of the source's rows ever staged, normalised once (as_of-free part; macros/staging_versions.sql) -#}
{{ versions_model(source('children', 'tre_em'), stg_children__tre_em_version('versions_source'), 'children', 'tre_em') }}  -- noqa: PRS
